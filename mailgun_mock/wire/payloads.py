"""Mailgun's shapes for a parsed message: forward/notify POST fields, stored-message JSON,
and the ``message`` block of events (pure).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..mail.parse import Attachment, ParsedMessage

__all__ = [
    "accepted_event",
    "delivery_event",
    "event_message",
    "forward_fields",
    "is_mime_url",
    "notify_fields",
    "route_refs",
    "sent_event",
    "stored_event",
    "stored_json",
    "stored_mime_json",
]

Fields = list[tuple[str, "str | bytes"]]
FilePart = tuple[str, str, bytes, str]


def is_mime_url(url: str) -> bool:
    """Whether a forward URL asks for the raw message: its path ends in ``mime`` (trailing ``/`` ignored)."""
    return urlsplit(url).path.rstrip("/").endswith("mime")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _bodies(msg: ParsedMessage) -> Fields:
    """body-plain, stripped-text, stripped-signature, and the HTML fields when there is HTML."""
    fields: Fields = [
        ("body-plain", msg.body_plain),
        ("stripped-text", msg.stripped_text),
        ("stripped-signature", msg.stripped_signature),
    ]
    if msg.body_html:
        fields += [("body-html", msg.body_html), ("stripped-html", msg.stripped_html)]
    return fields


def _header_fields(msg: ParsedMessage) -> Fields:
    """Every MIME header under its original name (repeated headers repeat the key)."""
    return list(msg.headers)


def _base(msg: ParsedMessage, recipient: str, sender: str) -> Fields:
    return [("recipient", recipient), ("sender", sender), ("from", msg.from_), ("subject", msg.subject)]


def forward_fields(msg: ParsedMessage, recipient: str, sender: str, url: str) -> tuple[Fields, list[FilePart]]:
    """The fields and files of a ``forward(url)`` POST (signature excluded: added per attempt).

    A URL ending in ``mime`` gets ``body-mime`` (the raw message) instead of the parsed bodies.
    Attachments are posted as files ``attachment-1..N`` (numbered from 1, as Mailgun does).
    """
    headers_json = ("message-headers", _json([list(pair) for pair in msg.headers]))
    if is_mime_url(url):
        return [*_base(msg, recipient, sender), headers_json, ("body-mime", msg.raw)], []
    names = {a.index: f"attachment-{a.index + 1}" for a in msg.attachments}
    cid_map = {cid: names[a.index] for cid, a in msg.content_id_map.items()}
    fields = [*_base(msg, recipient, sender), *_bodies(msg), headers_json, ("content-id-map", _json(cid_map))]
    if msg.attachments:
        fields.append(("attachment-count", str(len(msg.attachments))))
    files = [(names[a.index], a.filename, a.content, a.content_type) for a in msg.attachments]
    return [*fields, *_header_fields(msg)], files


def _attachment_json(attachment: Attachment, message_url: str) -> dict[str, Any]:
    return {
        "content-type": attachment.content_type,
        "name": attachment.filename,
        "size": attachment.size,
        "url": f"{message_url}/attachments/{attachment.index}",
    }


def notify_fields(msg: ParsedMessage, recipient: str, sender: str, domain: str, message_url: str) -> Fields:
    """The fields of a ``store(notify=url)`` POST, as the store() announcement describes them.

    No file parts and no ``attachment-count``: ``attachments`` is a JSON list of
    ``{url, content-type, name, size}`` (URLs counted from 0) and ``content-id-map`` maps each
    content id to its attachment URL.
    """
    attachments = [_attachment_json(a, message_url) for a in msg.attachments]
    cid_map = {cid: f"{message_url}/attachments/{a.index}" for cid, a in msg.content_id_map.items()}
    return [
        ("domain", domain),
        *_base(msg, recipient, sender),
        *_bodies(msg),
        ("message-url", message_url),
        ("message-headers", _json([list(pair) for pair in msg.headers])),
        ("content-id-map", _json(cid_map)),
        ("attachments", _json(attachments)),
        *_header_fields(msg),
    ]


def stored_json(msg: ParsedMessage, recipients: Sequence[str], sender: str, message_url: str) -> dict[str, Any]:
    """``GET`` of a stored message: real arrays, plural ``recipients``, headers as top-level keys."""
    attachments = [_attachment_json(a, message_url) for a in msg.attachments]
    body: dict[str, Any] = {}
    for name, value in msg.headers:
        body.setdefault(name, value)  # a JSON key cannot repeat: the first occurrence stands
    body.update(
        {
            "recipients": ", ".join(recipients),
            "sender": sender,
            "from": msg.from_,
            "subject": msg.subject,
            "body-plain": msg.body_plain,
            "stripped-text": msg.stripped_text,
            "stripped-signature": msg.stripped_signature,
            "body-html": msg.body_html,
            "stripped-html": msg.stripped_html,
            "attachments": attachments,
            "content-id-map": {cid: attachments[a.index] for cid, a in msg.content_id_map.items()},
            "message-headers": [list(pair) for pair in msg.headers],
        }
    )
    return body


def stored_mime_json(msg: ParsedMessage, recipients: Sequence[str], sender: str) -> dict[str, Any]:
    """``GET`` of a stored message with ``Accept: message/rfc2822``: still JSON, with ``body-mime``."""
    return {
        "recipients": ", ".join(recipients),
        "sender": sender,
        "from": msg.from_,
        "subject": msg.subject,
        "body-mime": msg.raw.decode("utf-8", "replace"),
    }


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
            "recipient-domain": recipient.rpartition("@")[2].lower(),
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
            "recipient-domain": recipient.rpartition("@")[2].lower(),
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
               url: str = "") -> dict[str, Any]:
    """An event of sent mail: ``accepted`` (``method: http``), ``delivered``, ``failed`` or engagement
    (``opened``, ``clicked``, ``unsubscribed``, ``complained``), in the shapes of Mailgun's samples.

    :param status: the ``delivery-status`` block (delivered and failed).
    :param severity: ``temporary`` or ``permanent`` (failed); sets the log level (warn/error).
    :param url: the link a ``clicked`` event reports.
    """
    level = "info" if kind != "failed" else ("error" if severity == "permanent" else "warn")
    event = _common(kind, event_id, timestamp, level)
    event.update({
        "recipient": recipient,
        "recipient-domain": recipient.rpartition("@")[2].lower(),
        "tags": list(tags),
        "user-variables": dict(user_variables),
        "flags": {**_flags(routed=False), "is-authenticated": True, "is-test-mode": test_mode},
    })
    if kind in ("accepted", "delivered", "failed"):
        event["message"] = message
        event["storage"] = storage
        event["envelope"] = {"sender": sender, "targets": recipient, "transport": "smtp"}
    if kind == "accepted":
        event["method"] = "http"
    elif kind in ("delivered", "failed"):
        event["envelope"]["sending-ip"] = "127.0.0.1"
    if status is not None:
        event["delivery-status"] = status
    if kind == "failed":
        event["severity"] = severity or "permanent"
        event["reason"] = reason or "generic"
    if kind in ("opened", "clicked", "unsubscribed", "complained"):
        event["message"] = {"headers": {"message-id": message.get("headers", {}).get("message-id", "")}}
        event["ip"] = "127.0.0.1"
        event["geolocation"] = {"city": "Unknown", "country": "US", "region": "Unknown"}
        event["client-info"] = dict(_CLIENT)
        if kind == "clicked":
            event["url"] = url
    return event
