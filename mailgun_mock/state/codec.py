"""The store's snapshot shape checked and decoded: what :meth:`Store.restore` accepts. Pure."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from ..base.records import DeliveryAttempt, Route, StoredMessage
from .resources import Resources
from .send_state import SendState

__all__ = ["STATE_KEYS", "decode_state"]

STATE_KEYS = ("attempts", "counters", "events", "messages", "resources", "routes", "send")
"""The sections of a state dict, as :meth:`Store.snapshot` writes them (``resources`` may be absent:
snapshots written before the account resources existed have none). A state may also hold
``subaccounts``: each subaccount's own state by id, written only when there are any."""


_SECTIONS: dict[str, tuple[type, Callable[[Any], Any], Callable[[Any], str]]] = {
    "routes": (Route, Route.from_dict, lambda route: f"id {route.id!r}"),
    "messages": (StoredMessage, StoredMessage.from_dict, lambda message: f"key {message.key!r}"),
    "attempts": (DeliveryAttempt, DeliveryAttempt.from_dict, lambda attempt: ""),
}


def decode_state(data: Mapping[str, Any]) -> dict[str, Any]:
    """A :meth:`Store.snapshot` dict with its records decoded (routes, messages and attempts as
    model objects) and everything checked, ready for :meth:`Store.restore`.

    Records that are model objects already are taken as they are, so decoding twice is cheap.

    :raises ValueError: naming the section and item that doesn't deserialise, and why.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"state: expected an object, got {type(data).__name__}")
    keys = set(map(str, data))
    if not set(STATE_KEYS) - {"resources"} <= keys <= {*STATE_KEYS, "subaccounts"}:
        found = ", ".join(sorted(keys)) or "none"
        raise ValueError(f"state: expected the sections {', '.join(STATE_KEYS)} (and subaccounts), got {found}")
    decoded: dict[str, Any] = {}
    for section, (cls, from_dict, identity) in _SECTIONS.items():
        items = data[section]
        if not isinstance(items, list):
            raise ValueError(f"state: {section!r} must be a list")
        records: list[Any] = []
        seen: set[str] = set()
        for number, item in enumerate(items):
            try:
                record = item if isinstance(item, cls) else from_dict(item)
            except ValueError as exc:
                raise ValueError(f"state: {section}[{number}]: {exc}") from None
            key = identity(record)
            if key and key in seen:
                raise ValueError(f"state: {section}[{number}]: {key} appears twice")
            seen.add(key)
            records.append(record)
        decoded[section] = records
    events = data["events"]
    if not isinstance(events, Mapping):
        raise ValueError("state: 'events' must be an object mapping each domain to its events")
    for domain, items in events.items():
        if not isinstance(domain, str) or not isinstance(items, list):
            raise ValueError(f"state: events: {domain!r} must map a domain to a list of events")
        for number, event in enumerate(items):
            stamp = event.get("timestamp") if isinstance(event, dict) else None
            if not _finite(stamp):
                raise ValueError(f"state: events[{domain!r}][{number}]: expected an object with a finite "
                                 f"numeric 'timestamp', got {str(event)[:60]}")
    decoded["events"] = dict(events)
    counters = data["counters"]
    next_seq = counters.get("route_seq") if isinstance(counters, Mapping) else None
    if not isinstance(next_seq, int) or isinstance(next_seq, bool) or next_seq < 0:
        raise ValueError(f"state: counters: 'route_seq' must be a non-negative integer, got {next_seq!r}")
    decoded["counters"] = {"route_seq": next_seq}
    send = data["send"]
    decoded["send"] = send if isinstance(send, SendState) else SendState.from_dict(send)
    decoded["resources"] = Resources.decode(data.get("resources", {}))
    owned = decoded["resources"].get("admin", {}).get("subaccounts", {})
    decoded["subaccounts"] = _subaccounts(data.get("subaccounts", {}), owned)
    return decoded


def _subaccounts(data: Any, records: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The subaccounts' own states (subaccount id -> state), each decoded; each belongs to a subaccount
    of ``records`` (the admin section's) and has no subaccounts of its own. A closed subaccount's state
    is left out (one closing while the snapshot was taken)."""
    if not isinstance(data, Mapping):
        raise ValueError("state: 'subaccounts' must be an object mapping each subaccount id to its state")
    decoded = {}
    for name, state in data.items():
        where = f"state: subaccounts[{str(name)[:40]!r}]"
        record = records.get(name)
        if not isinstance(record, Mapping) or record.get("status") not in ("open", "disabled", "closed"):
            raise ValueError(f"{where}: no subaccount has this id")
        if record["status"] == "closed":
            continue
        try:
            decoded[str(name)] = decode_state(state)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if decoded[str(name)]["subaccounts"]:
            raise ValueError(f"{where}: a subaccount has no subaccounts of its own")
    return decoded


def _finite(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False
