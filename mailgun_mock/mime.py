"""Raw message -> the fields Mailgun posts (body-plain, stripped-text, attachments...). Pure, no I/O.

:class:`ParsedMessage` is lazy: constructing it costs nothing, headers are split by a small byte-level
splitter (:func:`mailgun_mock.headers.split_head`) on first access, and the MIME body is walked only
when a body or attachment property is read, because most of the pipeline (route matching, events)
needs the headers alone. Nothing here raises on malformed mail: every problem is recorded in
:attr:`ParsedMessage.defects` instead.
"""

from __future__ import annotations

import binascii
import logging
import re
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property

from .headers import (
    ADDRESS_HEADERS, decode_base64, decode_bytes, decode_header_value, parse_addresses, split_head, unfold,
)
from .stripping import html_to_text, strip_html, strip_text

__all__ = ["Attachment", "ParsedMessage", "decode_header_value"]

log = logging.getLogger("mailgun_mock")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")

_EXTENSIONS = {
    "application/pdf": ".pdf", "application/zip": ".zip", "application/json": ".json", "image/png": ".png",
    "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "text/plain": ".txt", "text/html": ".html",
    "text/calendar": ".ics", "text/csv": ".csv", "application/ics": ".ics", "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt", "application/msword": ".doc", "application/octet-stream": ".bin",
    "application/pgp-signature": ".asc", "application/pkcs7-signature": ".p7s", "application/ms-tnef": ".dat",
}
_MAX_DEPTH = 32  # deeper multiparts are kept whole as an attachment instead of recursing


@dataclass(frozen=True)
class Attachment:
    """One file part of a message, numbered from 0 in document order."""

    index: int
    filename: str
    content_type: str
    content: bytes
    content_id: str | None
    disposition: str
    size: int


@dataclass
class _Body:
    """What the MIME walk found: body texts, attachments and defects."""

    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def _default_filename(content_type: str, index: int) -> str:
    """Name a part that has no filename, from its content type.

    :param content_type: the part's lowercase content type.
    :param index: the 0-based attachment index.
    """
    if content_type in ("message/rfc822", "message/global"):
        return "forwarded-message.eml"
    if content_type == "message/delivery-status":
        return "delivery-status.txt"
    return f"attachment-{index + 1}{_EXTENSIONS.get(content_type, '.bin')}"


class ParsedMessage:
    """A raw RFC 5322 message with every Mailgun field computed lazily and at most once.

    :param raw: the message bytes exactly as received.
    """

    def __init__(self, raw: bytes) -> None:
        self.raw = bytes(raw)
        self.size = len(self.raw)

    @cached_property
    def _head(self) -> tuple[list[tuple[str, str]], int, list[str]]:
        """The raw header pairs, body offset and header defects."""
        return split_head(self.raw)

    @cached_property
    def headers(self) -> list[tuple[str, str]]:
        """Every header in order, repeats kept, original name casing, values unfolded and decoded."""
        return [(name, decode_header_value(value, address=name.lower() in ADDRESS_HEADERS))
                for name, value in self._head[0]]

    @cached_property
    def _index(self) -> dict[str, list[str]]:
        """Decoded header values keyed by lowercase name."""
        index: dict[str, list[str]] = {}
        for name, value in self.headers:
            index.setdefault(name.lower(), []).append(value)
        return index

    def header_values(self, name: str) -> list[str]:
        """All decoded values of a header, in order.

        :param name: the header name, any case.
        :return: the values, ``[]`` if the header is absent.
        """
        return list(self._index.get(name.lower(), ()))

    def header(self, name: str, default: str = "") -> str:
        """The first decoded value of a header.

        :param name: the header name, any case.
        :param default: returned when the header is absent.
        """
        values = self._index.get(name.lower())
        return values[0] if values else default

    @property
    def subject(self) -> str:
        """The decoded Subject."""
        return self.header("Subject")

    @property
    def from_(self) -> str:
        """The decoded From header, e.g. ``Bob <bob@example.com>``."""
        return self.header("From")

    @property
    def message_id(self) -> str:
        """The Message-Id header as written, angle brackets included."""
        return self.header("Message-Id")

    def addresses(self, *header_names: str) -> list[str]:
        """The addr-specs in the named address headers, deduplicated case-insensitively, in order.

        :param header_names: header names such as ``"To"``, ``"Cc"``; To and Cc when none are given.
        """
        wanted = {n.lower() for n in (header_names or ("To", "Cc"))}
        seen: set[str] = set()
        out: list[str] = []
        for name, value in self._head[0]:
            if name.lower() in wanted:
                for addr in parse_addresses(unfold(value)):
                    if addr.lower() not in seen:
                        seen.add(addr.lower())
                        out.append(addr)
        return out

    @cached_property
    def _body(self) -> _Body:
        """Walk the MIME tree once, collecting body texts, attachments and defects."""
        body = _Body()
        try:
            headers, offset, _ = self._head
            _walk(headers, self.raw[offset:], body, 0, "text/plain")
        except Exception as exc:  # pragma: no cover - the walk is written not to raise; this is a backstop
            log.warning("MIME walk failed: %r", exc, exc_info=True)
            body.defects.append(f"MIME walk failed: {exc!r}")
        return body

    @cached_property
    def body_plain(self) -> str:
        """The first text/plain body part, or text synthesised from the HTML body when there is none."""
        if self._body.plain is not None:
            return self._body.plain
        return html_to_text(self._body.html) if self._body.html else ""

    @cached_property
    def body_html(self) -> str:
        """The first text/html body part, ``""`` if none."""
        return self._body.html or ""

    @cached_property
    def _stripped(self) -> tuple[str, str]:
        """``(stripped text, stripped signature)``."""
        return strip_text(self.body_plain)

    @property
    def stripped_text(self) -> str:
        """The text body without quoted history and signature."""
        return self._stripped[0]

    @property
    def stripped_signature(self) -> str:
        """The signature block removed from the text body, ``""`` if none."""
        return self._stripped[1]

    @cached_property
    def stripped_html(self) -> str:
        """The HTML body without the quoted history."""
        return strip_html(self.body_html) if self.body_html else ""

    @property
    def attachments(self) -> list[Attachment]:
        """Every non-body leaf part, in document order."""
        return list(self._body.attachments)

    @cached_property
    def content_id_map(self) -> dict[str, Attachment]:
        """Content-ID (angle brackets kept) -> attachment; the first part wins on duplicates."""
        out: dict[str, Attachment] = {}
        for att in self.attachments:
            if att.content_id is not None:
                out.setdefault(att.content_id, att)
        return out

    @property
    def defects(self) -> list[str]:
        """Human-readable parser defects, ``[]`` for clean mail. Reading this walks the body."""
        return self._head[2] + self._body.defects


def _walk(headers: list[tuple[str, str]], data: bytes, body: _Body, depth: int, default: str) -> None:
    """Visit one MIME entity: recurse into multiparts, classify leaves as body or attachment."""
    info = Message()
    info.set_default_type(default)
    for name, value in headers:
        if name.lower() in ("content-type", "content-disposition") and name not in info:
            info[name] = unfold(value)  # encoded words are decoded per parameter, after parsing
    ctype = info.get_content_type()
    if not _MEDIA_TYPE.fullmatch(ctype):  # it is echoed in Content-Type headers later: only a clean token
        body.defects.append(f"unusable content type {ctype[:60]!r}, read as application/octet-stream")
        ctype = "application/octet-stream"
    defects = body.defects
    if ctype.startswith("multipart/") and depth < _MAX_DEPTH:
        boundary = info.get_boundary()
        parts = _split_multipart(data, boundary.encode("utf-8"), defects) if boundary else None
        if parts is not None:
            child_default = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
            for part in parts:
                part_headers, offset, part_defects = split_head(part)
                defects.extend(part_defects)
                _walk(part_headers, part[offset:], body, depth + 1, child_default)
            return
        if not boundary:
            defects.append(f"{ctype} without a boundary parameter; body read as text")
        ctype = "text/plain"
    elif ctype.startswith("multipart/"):
        defects.append(f"multipart nesting deeper than {_MAX_DEPTH}; kept whole as an attachment")
    _leaf(headers, info, ctype, data, body)


def _leaf(headers: list[tuple[str, str]], info: Message, ctype: str, data: bytes, body: _Body) -> None:
    """Decode one leaf part and file it as the text body, the HTML body or an attachment."""
    defects, attachments = body.defects, body.attachments
    fields = {name.lower(): value for name, value in reversed(headers)}
    cte = fields.get("content-transfer-encoding", "").strip().lower()
    content = data
    if cte == "base64":
        content, ok = decode_base64(data)
        if not ok:
            defects.append(f"invalid base64 in a {ctype} part; decoded best-effort")
    elif cte == "quoted-printable":
        content = binascii.a2b_qp(data)
    disposition = str(info.get("content-disposition", "")).split(";")[0].strip().lower()
    try:
        filename = decode_header_value(info.get_filename() or "")
    except Exception:  # email.utils can trip on pathological RFC 2231 values
        filename = ""
        defects.append(f"unreadable filename parameter in a {ctype} part")
    cid = decode_header_value(fields.get("content-id", "")) or None
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = decode_bytes(content, info.get_content_charset(), defects).replace("\r\n", "\n")
        if ctype == "text/plain" and body.plain is None:
            body.plain = text
            return
        if ctype == "text/html" and body.html is None:
            body.html = text
            return
        if not text.strip():
            return  # an empty extra alternative is not a file
    index = len(attachments)
    inline = disposition == "inline" or (not disposition and cid)
    attachments.append(Attachment(index, filename or _default_filename(ctype, index), ctype, content, cid,
                                  "inline" if inline else "attachment", len(content)))


def _split_multipart(data: bytes, boundary: bytes, defects: list[str]) -> list[bytes] | None:
    """Cut a multipart body at its boundary lines.

    :return: the parts (headers and body each), or ``None`` when the boundary never appears.
    """
    delimiter = re.compile(rb"(?m)^--" + re.escape(boundary) + rb"(--)?[ \t]*\r?$")
    parts: list[bytes] = []
    start: int | None = None
    for m in delimiter.finditer(data):
        if start is not None:
            stop = m.start() - (2 if data[m.start() - 2:m.start()] == b"\r\n" else 1)
            parts.append(data[start:max(stop, start)])
        start = m.end() + 1
        if m.group(1):
            return parts
    if start is None:
        defects.append(f"boundary {boundary[:70]!r} never appears; body read as text")
        return None
    defects.append(f"closing boundary {boundary[:70]!r} is missing")
    parts.append(data[start:])
    return parts

