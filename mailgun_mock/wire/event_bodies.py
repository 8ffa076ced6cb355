"""Mailgun's event bodies (Events API items and event webhooks' ``event-data``): accepted, stored,
delivered/failed for a forward, and the events of sent mail. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..base.addresses import domain_of
from ..mail.parse import ParsedMessage

__all__ = ["accepted_event", "delivery_event", "event_message", "route_refs", "sample_event", "sent_event",
           "stored_event"]


def event_message(msg: ParsedMessage, recipients: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``message`` block of an event: a few headers, attachments, size (and recipients)."""
    block: dict[str, Any] = {
        "headers": {
            "to": msg.header("To"),
            "message-id": msg.message_id.strip().strip("<>"),
            "from": msg.from_,
            "subject": msg.subject,
        },
        "attachments": [
            {"filename": a.filename, "content-type": a.content_type, "size": a.size} for a in msg.attachments
        ],
        "size": msg.size,
    }
    if recipients is not None:
        block["recipients"] = list(recipients)
    return block


def _flags(routed: bool) -> dict[str, bool]:
    return {"is-authenticated": False, "is-routed": routed, "is-system-test": False, "is-test-mode": False}


def _common(event: str, event_id: str, timestamp: float, level: str = "info") -> dict[str, Any]:
    return {
        "event": event,
        "id": event_id,
        "timestamp": round(timestamp, 6),
        "log-level": level,
        "campaigns": [],
        "tags": [],
        "user-variables": {},
    }


def route_refs(routes: Sequence[tuple[str, str]], recipient: str) -> list[dict[str, Any]]:
    """The ``routes`` list of a routed event: ``[{"expression", "id", "match": {"recipient"}}]``."""
    return [{"expression": expr, "id": rid, "match": {"recipient": recipient}} for rid, expr in routes]


def accepted_event(event_id: str, timestamp: float, message: dict[str, Any], recipient: str, sender: str,
                   routes: list[dict[str, Any]], storage: dict[str, str] | None = None) -> dict[str, Any]:
    """An ``accepted`` event for routed inbound mail (``flags.is-routed``, the matched routes)."""
    event = _common("accepted", event_id, timestamp)
    event.update(
        {
            "method": "smtp",
            "recipient": recipient,
            "recipient-domain": domain_of(recipient).lower(),
            "envelope": {"sender": sender, "targets": recipient, "transport": "smtp"},
            "flags": _flags(routed=True),
            "message": message,
            "routes": routes,
        }
    )
    if storage:
        event["storage"] = storage
    return event


def stored_event(event_id: str, timestamp: float, message: dict[str, Any], storage: dict[str, str]) -> dict[str, Any]:
    """A ``stored`` event: ``storage.url`` and ``storage.key``, recipients in ``message.recipients``."""
    event = _common("stored", event_id, timestamp)
    event.update({"flags": {"is-test-mode": False}, "message": message, "storage": storage})
    return event


def delivery_event(event_id: str, timestamp: float, *, delivered: bool, permanent: bool, recipient: str,
                   sender: str, target: str, transport: str, message: dict[str, Any],
                   routes: list[dict[str, Any]], status: dict[str, Any]) -> dict[str, Any]:
    """A ``delivered`` or ``failed`` event for a forward (``transport`` ``http`` or ``smtp``).

    :param permanent: for a failure: no retry remains (``severity`` permanent, log level error).
    :param status: the ``delivery-status`` block.
    """
    level = "info" if delivered else ("error" if permanent else "warn")
    event = _common("delivered" if delivered else "failed", event_id, timestamp, level)
    event.update(
        {
            "recipient": recipient,
            "recipient-domain": domain_of(recipient).lower(),
            "envelope": {"sender": sender, "targets": target, "transport": transport},
            "delivery-status": status,
            "flags": _flags(routed=True),
            "message": message,
            "routes": routes,
        }
    )
    if not delivered:
        event["severity"] = "permanent" if permanent else "temporary"
        event["reason"] = "generic"
    return event


_CLIENT = {"client-name": "Chrome", "client-os": "Linux", "client-type": "browser", "device-type": "desktop",
           "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}


def sent_event(kind: str, event_id: str, timestamp: float, *, recipient: str, sender: str, message: dict[str, Any],
               storage: dict[str, str], tags: Sequence[str], user_variables: dict[str, Any], test_mode: bool,
               status: dict[str, Any] | None = None, severity: str | None = None, reason: str | None = None,
               url: str = "", method: str = "http", sending_ip: str = "127.0.0.1",
               engagement: dict[str, str] | None = None) -> dict[str, Any]:
    """An event of sent mail: ``accepted``, ``delivered``, ``failed`` or engagement (``opened``,
    ``clicked``, ``unsubscribed``, ``complained``), in the shapes of Mailgun's samples.

    :param status: the ``delivery-status`` block (delivered and failed).
    :param severity: ``temporary`` or ``permanent`` (failed); sets the log level (warn/error).
    :param url: the link a ``clicked`` event reports.
    :param method: how ``accepted`` mail came: ``http`` (the API) or ``smtp`` (the relay).
    :param sending_ip: the ``envelope.sending-ip`` of ``delivered`` and ``failed``.
    :param engagement: where and on what an engagement happened: ``country`` (default ``US``) and
        ``device`` (the ``client-info.device-type``, default ``desktop``).
    """
    level = "info" if kind != "failed" else ("error" if severity == "permanent" else "warn")
    event = _common(kind, event_id, timestamp, level)
    event.update({
        "recipient": recipient,
        "recipient-domain": domain_of(recipient).lower(),
        "tags": list(tags),
        "user-variables": dict(user_variables),
        "flags": {**_flags(routed=False), "is-authenticated": True, "is-test-mode": test_mode},
    })
    if kind in ("accepted", "delivered", "failed"):
        event["message"] = message
        event["storage"] = storage
        event["envelope"] = {"sender": sender, "targets": recipient, "transport": "smtp"}
    if kind == "accepted":
        event["method"] = method
    elif kind in ("delivered", "failed"):
        event["envelope"]["sending-ip"] = sending_ip
    if status is not None:
        event["delivery-status"] = status
    if kind == "failed":
        event["severity"] = severity or "permanent"
        event["reason"] = reason or "generic"
    if kind in ("opened", "clicked", "unsubscribed", "complained"):
        event["message"] = {"headers": {"message-id": message.get("headers", {}).get("message-id", "")}}
        event["ip"] = "127.0.0.1"
        where = engagement or {}
        event["geolocation"] = {"city": "Unknown", "country": where.get("country") or "US", "region": "Unknown"}
        event["client-info"] = {**_CLIENT, "device-type": where.get("device") or _CLIENT["device-type"]}
        if kind == "clicked":
            event["url"] = url
    return event


def sample_event(webhook: str, domain: str, timestamp: float) -> dict[str, Any]:
    """The event a webhook test POSTs: one of the kind the webhook is named after (``permanent_fail``
    and ``temporary_fail`` are ``failed`` of that severity), to ``alice@example.com``."""
    kind = {"permanent_fail": "failed", "temporary_fail": "failed"}.get(webhook, webhook)
    severity = "temporary" if webhook == "temporary_fail" else "permanent"
    message = {"headers": {"to": "Alice <alice@example.com>", "message-id": f"sample.{int(timestamp)}@{domain}",
                           "from": f"Bob <bob@{domain}>", "subject": "Test webhook"}, "attachments": [], "size": 111}
    status = {"attempt-no": 1, "code": 250 if kind != "failed" else 550, "message": "OK", "description": ""}
    event = sent_event(kind, f"sample-{kind}-{int(timestamp)}".ljust(22, "0")[:22], timestamp, recipient="alice@example.com",
                       sender=f"bob@{domain}", message=message, storage={"key": "sample", "url": ""}, tags=["sample"],
                       user_variables={"my-var": "sample"}, test_mode=False,
                       status=status if kind in ("delivered", "failed") else None,
                       severity=severity if kind == "failed" else None, url="https://example.com/")
    return event
