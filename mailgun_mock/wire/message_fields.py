"""Mailgun's fields for a parsed message: a ``forward()`` POST, a ``store(notify=…)`` POST, and the
stored-message JSON of ``/v3/domains/<d>/messages/<key>``. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..mail.parse import Attachment, ParsedMessage
from .form import FilePart

__all__ = ["forward_fields", "is_mime_url", "notify_fields", "stored_json", "stored_mime_json"]

Fields = list[tuple[str, "str | bytes"]]


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
