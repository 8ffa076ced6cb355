"""Mailgun's suppression lists per domain: bounces, unsubscribes (per tag), complaints, and the
allowlist (``whitelists``: addresses and domains that are never added to bounces).

A send to a suppressed address fails at once with the list's ``suppress-*`` reason; the lists are
shown in the shapes of Mailgun's suppression API (dates in RFC 2822, UTC), alphabetically, and paged
as Mailgun pages them: by the address at the page's edge (:meth:`Suppressions.page`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.utils import formatdate
from typing import Any

from ..base.errors import BadRequest
from ..base.logtext import shorten
from ..base.records import ListKind, SuppressionHit

__all__ = ["KINDS", "MAX_PAGE", "Suppressions", "rfc2822"]

# Lookup precedence first. Codes 606/607 follow Symfony's Mailgun bridge
# (Mailer/Bridge/Mailgun/RemoteEvent/MailgunPayloadConverter.php); the reference only gives 605.
_SUPPRESSED: dict[ListKind, tuple[str, int, str]] = {
    "bounces": ("suppress-bounce", 605, "Not delivering to previously bounced address"),
    "complaints": ("suppress-complaint", 607, "Not delivering to a user who marked your messages as spam"),
    "unsubscribes": ("suppress-unsubscribe", 606, "Not delivering to unsubscribed address"),
}

#: Every list the suppression API serves, in the order of its paths.
KINDS = ("bounces", "unsubscribes", "complaints", "whitelists")
#: The largest ``limit`` a page may ask for.
MAX_PAGE = 1000


def rfc2822(timestamp: float) -> str:
    """Mailgun's date format for suppressions: ``Thu, 13 Oct 2011 18:02:00 UTC``."""
    return formatdate(timestamp, usegmt=True)[:-3] + "UTC"


_ENTRY_FIELDS = {"bounces": {"address", "created_at", "code", "error"},
                 "unsubscribes": {"address", "created_at", "tags"}, "complaints": {"address", "created_at"},
                 "whitelists": {"type", "value", "created_at", "reason"}}
_ENTRY_TYPES: dict[str, type | tuple[type, ...]] = {"address": str, "created_at": (int, float), "code": int,
                                                     "error": str, "tags": list, "type": str, "value": str,
                                                     "reason": str}


class Suppressions:
    """Mailgun's per-domain ``bounces``, ``unsubscribes`` and ``complaints`` lists.

    Addresses and domains compare case-insensitively. Not thread-safe: the store's lock guards it.
    """

    def __init__(self) -> None:
        self._lists: dict[str, dict[str, dict[str, dict[str, Any]]]] = {kind: {} for kind in KINDS}

    def _kinds(self, kind: str | None) -> list[str]:
        if kind is None:
            return list(self._lists)
        if kind not in self._lists:
            raise BadRequest(f"unknown suppression list {shorten(kind)} (lists are {', '.join(KINDS)})")
        return [kind]

    def _list(self, kind: str, domain: str, *, create: bool = False) -> dict[str, dict[str, Any]]:
        by_domain = self._lists[self._kinds(kind)[0]]
        return by_domain.setdefault(domain.lower(), {}) if create else by_domain.get(domain.lower(), {})

    def add(self, kind: str, domain: str, address: str, *, code: int = 550, error: str = "",
            created_at: float, tag: str | None = None) -> None:
        """Add an address, or update its record (an unsubscribe gains ``tag``, default ``*``).

        :param code: for bounces: the SMTP code.
        :param error: for bounces: the SMTP reply text.
        :raises BadRequest: for an unknown list, or a ``tag`` for a list other than unsubscribes.
        """
        if kind == "whitelists":
            raise BadRequest("the allowlist takes entries through allow()")
        entries = self._list(kind, domain, create=True)
        if tag is not None and kind != "unsubscribes":
            raise BadRequest("'tag' applies only to unsubscribes")
        entry: dict[str, Any] = {"address": address, "created_at": created_at}
        if kind == "bounces":
            entry.update(code=code, error=error)
        elif kind == "unsubscribes":
            tag = "*" if tag is None else tag
            tags = list(entries.get(address.lower(), {}).get("tags", []))
            entry["tags"] = tags if tag in tags else [*tags, tag]
        entries[address.lower()] = entry

    def allow(self, domain: str, kind: str, value: str, *, reason: str, created_at: float) -> None:
        """Put an address (``kind`` ``address``) or a whole domain (``domain``) on the allowlist."""
        self._list("whitelists", domain, create=True)[value.lower()] = {
            "type": kind, "value": value, "created_at": created_at, "reason": reason}

    def allowed(self, domain: str, address: str) -> bool:
        """Whether ``address`` (or its domain) is on ``domain``'s allowlist: then it is never bounced."""
        entries = self._list("whitelists", domain)
        return address.lower() in entries or address.rpartition("@")[2].lower() in entries

    def remove(self, kind: str, domain: str, address: str, *, tag: str | None = None) -> bool:
        """Remove an address (for unsubscribes, only ``tag`` if given); whether anything was removed."""
        entries = self._list(kind, domain)
        if tag is not None and kind != "unsubscribes":
            raise BadRequest("'tag' applies only to unsubscribes")
        entry = entries.get(address.lower())
        if entry is None or tag is not None and tag not in entry["tags"]:
            return False
        if tag is not None and len(entry["tags"]) > 1:
            entry["tags"] = [t for t in entry["tags"] if t != tag]
        else:
            del entries[address.lower()]
        return True

    def clear(self, kind: str | None = None, domain: str | None = None) -> int:
        """Empty every list, or one kind of list; for every domain, or for one. Answers how many went."""
        gone = 0
        for name in self._kinds(kind):
            if domain is None:
                gone += sum(len(entries) for entries in self._lists[name].values())
                self._lists[name].clear()
            else:
                gone += len(self._lists[name].pop(domain.lower(), {}))
        return gone

    def lookup(self, domain: str, address: str, *, tags: Sequence[str] = ()) -> SuppressionHit | None:
        """The list that stops a send to ``address``: bounces, then complaints, then unsubscribes.

        An unsubscribe counts when it is for ``*`` or for one of the message's ``tags`` (any case).
        """
        wanted = {t.casefold() for t in tags} | {"*"}
        for kind, (reason, code, description) in _SUPPRESSED.items():
            entry = self._lists[kind].get(domain.lower(), {}).get(address.lower())
            if entry is not None and (kind != "unsubscribes" or wanted & {t.casefold() for t in entry["tags"]}):
                return SuppressionHit(kind, reason, code, description)
        return None

    def get(self, kind: str, domain: str, address: str) -> dict[str, Any] | None:
        """One record in Mailgun's API shape, or ``None``."""
        entry = self._list(kind, domain).get(address.lower())
        return None if entry is None else _api_shape(kind, entry)

    def items(self, kind: str, domain: str) -> list[dict[str, Any]]:
        """A domain's list in Mailgun's API shape, alphabetical by address as Mailgun lists them."""
        entries = self._list(kind, domain)
        return [_api_shape(kind, entries[key]) for key in sorted(entries)]

    def page(self, kind: str, domain: str, *, page: str, pivot: str, limit: int, term: str = "") -> list[dict[str, Any]]:
        """One page of a list, alphabetical, as Mailgun pages it.

        :param page: ``first`` (or ``""``), ``last``, ``next`` (addresses after ``pivot``) or
            ``previous`` (the ``limit`` addresses before ``pivot``).
        :param term: only addresses starting with it (ignoring case).
        """
        entries = self._list(kind, domain)
        prefix = term.lower()
        keys = sorted(key for key in entries if key.startswith(prefix))
        cut = pivot.lower()
        if page == "next":
            keys = [key for key in keys if key > cut][:limit]
        elif page == "previous":
            keys = [key for key in keys if key < cut][-limit:]
        elif page == "last":
            keys = keys[-limit:]
        else:
            keys = keys[:limit]
        return [_api_shape(kind, entries[key]) for key in keys]

    def to_dict(self) -> dict[str, Any]:
        """Every list as a snapshot keeps it: ``{kind: {domain: [record, …]}}``, records by address."""
        return {kind: {domain: [_copy(entries[key]) for key in sorted(entries)]
                       for domain, entries in sorted(by_domain.items()) if entries}
                for kind, by_domain in self._lists.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suppressions:
        """The lists :meth:`to_dict` made.

        :raises ValueError: naming the list and the record that doesn't fit.
        """
        # Snapshots written before the allowlist existed have no "whitelists": read as empty.
        if not isinstance(data, Mapping) or set(data) - {"whitelists"} != set(_SUPPRESSED) or not set(data) <= set(KINDS):
            raise ValueError(f"Suppressions: expected an object with exactly {', '.join(KINDS)}")
        made = cls()
        for kind, by_domain in data.items():
            if not isinstance(by_domain, Mapping):
                raise ValueError(f"Suppressions: {kind} must map domains to lists of records")
            for domain, records in by_domain.items():
                if not isinstance(domain, str) or not isinstance(records, list):
                    raise ValueError(f"Suppressions: {kind} must map domains to lists of records")
                for record in records:
                    if not _valid(kind, record):
                        raise ValueError(f"Suppressions: bad {kind} record for {domain}: {shorten(record)}")
                    key = record["value" if kind == "whitelists" else "address"]
                    made._list(kind, domain, create=True)[key.lower()] = _copy(record)
        return made


def _valid(kind: str, record: object) -> bool:
    return (isinstance(record, Mapping) and set(record) == _ENTRY_FIELDS[kind]
            and all(isinstance(v, _ENTRY_TYPES[k]) and not isinstance(v, bool) for k, v in record.items())
            and all(isinstance(t, str) for t in record.get("tags", [])))


def _copy(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, list) else value for key, value in entry.items()}


def _api_shape(kind: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    # Observed (mailgun-ruby VCR, 2025): bounce codes are strings; unsubscribes carry a "tags" list.
    if kind == "whitelists":  # Mailgun's allowlist records spell it createdAt
        return {"type": entry["type"], "value": entry["value"], "createdAt": rfc2822(entry["created_at"]),
                "reason": entry["reason"]}
    shown: dict[str, Any] = {"address": entry["address"]}
    if kind == "bounces":
        shown.update(code=str(entry["code"]), error=entry["error"])
    elif kind == "unsubscribes":
        shown["tags"] = list(entry["tags"])
    shown["created_at"] = rfc2822(entry["created_at"])
    return shown
