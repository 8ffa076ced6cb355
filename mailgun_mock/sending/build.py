"""The messages a send delivers: built from ``/messages`` fields, or the MIME of ``messages.mime`` and
the SMTP relay as given; with recipient-variables, one copy per recipient (batch sending). Pure.

With recipient-variables each envelope recipient gets a copy: To shows only a To recipient's own address
(``undisclosed-recipients:;`` for Cc and Bcc), Cc stays visible. ``%recipient%`` is the plain address, and a
missing ``%recipient.key%`` becomes ``""``, in subject, bodies, ``h:`` headers and ``v:`` values (for a MIME
message: every header but the structural ones, and every text part that is not an attachment).
"""

from __future__ import annotations

import email.utils
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..base.errors import BadRequest
from ..mail.compose import build_message
from ..mail.edit import rewrite_copy
from ..mail.headers import decode_header_value, split_address_list, split_head
from .form import SendRequest

__all__ = ["OutgoingMessage", "build_messages", "message_id"]

_HEX16 = re.compile(r"[0-9a-fA-F]{16,}")
_PLACEHOLDER = re.compile(r"%recipient(?:\.([^%\s]*))?%")
_RESERVED = frozenset({"from", "to", "cc", "bcc", "subject", "message-id", "mime-version", "content-type",
                       "content-transfer-encoding"})
_UNDISCLOSED = "undisclosed-recipients:;"


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to deliver: its envelope recipients (plain addresses) and its bytes."""

    recipients: tuple[str, ...]
    raw: bytes


def message_id(domain: str, now: float, token: str) -> str:
    """A Message-Id in Mailgun's current format, ``<YYYYMMDDhhmmss.<16 lowercase hex>@domain>``.

    :param domain: the sending domain.
    :param now: seconds since the epoch; written in UTC.
    :param token: at least 16 hex digits; the first 16 are used.
    :raises ValueError: for a token that is not hex or is too short.
    """
    if not _HEX16.fullmatch(token):
        raise ValueError(f"token must be at least 16 hex digits, got {token!r}")
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"<{stamp}.{token[:16].lower()}@{domain}>"


def build_messages(req: SendRequest, message_id: str, *, now: float) -> list[OutgoingMessage]:
    """The messages to deliver for one request, all carrying ``Message-Id: <message_id>``.

    Without recipient-variables: one message to every recipient (Bcc only in the envelope). With them: one
    message per recipient, placeholders substituted (batch sending). A ready message (``messages.mime``,
    the SMTP relay): the MIME as given, with a Message-Id added if it has none.

    :param req: a request from ``sending/form.py``.
    :param message_id: the id, angle brackets included (see :func:`message_id`).
    :param now: the time written in the Date header.
    :raises BadRequest: if the fields cannot make a well-formed message.
    """
    mime = None if req.mime is None else _with_message_id(req.mime, message_id)
    if req.recipient_variables is None:
        if mime is not None:
            return [OutgoingMessage(req.recipients, mime)]
        return [OutgoingMessage(req.recipients, _compose(req, message_id, now, list(req.to), None))]
    variables = {key.lower(): value for key, value in req.recipient_variables.items()}
    # Who sees their own address in To: the To items (of the form, or of the MIME's To header).
    to_items = req.to if mime is None else _to_header(mime)
    shown = {pairs[0][1].lower(): item for item in reversed(to_items) if (pairs := split_address_list(item))}
    shown.update(req.list_to)
    out = []
    for address in req.recipients:
        mine = own if isinstance(own := variables.get(address.lower()), dict) else {}
        sub = functools.partial(_substitute, address=address, variables=mine)
        to = shown.get(address.lower(), _UNDISCLOSED)
        if mime is None:
            raw = _compose(req, message_id, now, [to], sub)
        else:
            try:
                raw = rewrite_copy(mime, to=to, substitute=sub)
            except (ValueError, TypeError, IndexError) as exc:  # a header the stdlib cannot write again
                raise BadRequest(f"cannot personalize the message: {exc}") from exc
        out.append(OutgoingMessage((address,), raw))
    return out


def _to_header(mime: bytes) -> list[str]:
    """The items of a message's To headers, decoded."""
    return [item for name, value in split_head(mime)[0] if name.lower() == "to"
            for item, _ in split_address_list(decode_header_value(value, address=True)) or []]


def _substitute(text: str, address: str, variables: Mapping[str, Any]) -> str:
    """Replace ``%recipient%`` and ``%recipient.key%``; a missing key becomes ``""``."""

    def value(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return address
        found = variables.get(m.group(1))
        return "" if found is None else found if isinstance(found, str) else json.dumps(found, ensure_ascii=False)

    return _PLACEHOLDER.sub(value, text)


def _compose(req: SendRequest, message_id: str, now: float, to: list[str],
             sub: Callable[[str], str] | None) -> bytes:
    """One message from the request's fields, with ``to`` in the To header and ``sub`` applied to the texts."""
    s: Callable[[str], str] = sub or (lambda text: text)
    date = email.utils.format_datetime(datetime.fromtimestamp(now, timezone.utc))
    extra = [] if any(name.lower() == "date" for name, _ in req.headers) else [("Date", date)]
    extra += [("Message-Id", message_id), *(("X-Mailgun-Tag", tag) for tag in req.tags)]
    if req.user_variables:
        extra.append(("X-Mailgun-Variables", json.dumps({k: s(v) for k, v in req.user_variables.items()})))
    extra += [(name, s(value)) for name, value in req.headers if name.lower() not in _RESERVED]
    try:
        return build_message(
            from_=req.from_, to=to, cc=list(req.cc), subject=s(req.subject),
            text=None if req.text is None else s(req.text), html=None if req.html is None else s(req.html),
            attachments=req.attachments, inline=req.inline, headers=extra,
            amp_html=None if req.amp_html is None else s(req.amp_html),
        )
    except ValueError as exc:
        raise BadRequest(f"cannot build the message: {exc}") from exc


def _with_message_id(raw: bytes, message_id: str) -> bytes:
    """``raw`` with a Message-Id header prepended if it has none (after an mbox ``From `` line, if any)."""
    if any(name.lower() == "message-id" for name, _ in split_head(raw)[0]):
        return raw
    eol = b"\r\n" if b"\r\n" in raw[:4096] else b"\n"
    cut = raw.find(b"\n") + 1 if raw.startswith(b"From ") else 0
    return raw[:cut] + b"Message-Id: " + message_id.encode("ascii") + eol + raw[cut:]
