"""Raw message -> the fields Mailgun posts (body-plain, stripped-text, attachments...). Pure, no I/O.

:class:`ParsedMessage` is lazy: constructing it costs nothing, headers are split by a small byte-level
splitter (:func:`mailgun_mock.mail.headers.split_head`) on first access, and the MIME body is walked only
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

from .charsets import decode_part
from .headers import (
    ADDRESS_HEADERS,
    decode_base64,
    decode_header_value,
    parse_addresses,
    split_head,
    unfold,
)
from .html_text import html_to_text
from .quotes import strip_html, strip_text
from .uuencode import UU_ENCODINGS, decode_uu_part, extract_uu_blocks, guess_type

__all__ = ["Attachment", "ParsedMessage"]

log = logging.getLogger("mailgun_mock")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")

_EXTENSIONS = {
    "application/pdf": ".pdf", "application/zip": ".zip", "application/json": ".json", "image/png": ".png",
    "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "text/plain": ".txt", "text/html": ".html",
    "text/calendar": ".ics", "text/csv": ".csv", "application/ics": ".ics", "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt", "application/msword": ".doc", "application/octet-stream": ".bin",
    "application/pgp-signature": ".asc", "application/pkcs7-signature": ".p7s", "application/ms-tnef": ".dat",
}
# The rest of a boundary line after "--boundary": an optional closing "--", then only blanks.
_DELIMITER_TAIL = re.compile(rb"(?m)(--)?[ \t]*\r?$")
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


# A parameter list that email.message.Message reads the plain way: no RFC 2231 names (no "*"), no
# backslashes, no angle brackets (unquote() strips them), quoted values without inner quotes, every
# segment "name=value" or empty. Anything else goes to the stdlib, so the results are the same.
_PARAM_NAME = r"[!#$%&'+\-.0-9A-Z^_`a-z{|}~]+"
_SIMPLE_PARAMS = re.compile(
    rf'(?:;[ \t]*(?:{_PARAM_NAME}[ \t]*=[ \t]*(?:"[^"\\<>\x00-\x1f\x7f]*"|[^";\\<>\x00-\x1f\x7f]*))?[ \t]*)*')
_PARAM = re.compile(rf'[ \t]*({_PARAM_NAME})[ \t]*=[ \t]*("[^"]*"|[^;]*)')
_MISSING = object()


def _simple_params(value: str) -> list[tuple[str, str]] | None:
    """The parameters of a header value as ``Message.get_param`` would return them, or None when not simple.

    The first pair is the main value (``("text/plain", "")``), matched by name like the stdlib does.
    """
    main, sep, tail = value.partition(";")
    if not value.isascii() or '"' in main or "=" in main or not _SIMPLE_PARAMS.fullmatch(value, len(main)):
        return None
    params = [(main.strip(), "")]
    for m in _PARAM.finditer(tail):
        name, raw = m.group(1, 2)
        params.append((name, raw[1:-1] if raw[:1] == '"' else raw.strip()))
    return params


class _PartInfo:
    """Content-Type and Content-Disposition of one part, read as ``email.message.Message`` reads them.

    Simple parameter lists are parsed here; anything else (RFC 2231, escapes...) is handed to a Message,
    built lazily, so the answers are the stdlib's in every case.
    """

    __slots__ = ("_ct", "_cd", "_default", "_params", "_message")

    def __init__(self, headers: list[tuple[str, str]], default: str) -> None:
        self._ct: str | None = None
        self._cd: str | None = None
        self._default = default
        self._message: Message | None = None
        for name, value in headers:
            size = len(name)  # cheaper than lowercasing every name of a long header block
            if size == 12:
                if self._ct is None and name.lower() == "content-type":
                    self._ct = unfold(value)  # encoded words are decoded per parameter, after parsing
            elif size == 19 and self._cd is None and name.lower() == "content-disposition":
                self._cd = unfold(value)
        ct = [] if self._ct is None else _simple_params(self._ct)
        cd = [] if self._cd is None or ct is None else _simple_params(self._cd)
        self._params = None if ct is None or cd is None else (ct, cd)

    @property
    def message(self) -> Message:
        """The stdlib view of the two headers, for parameter lists that are not simple."""
        if self._message is None:
            info = Message()
            info.set_default_type(self._default)
            for name, value in (("Content-Type", self._ct), ("Content-Disposition", self._cd)):
                if value is not None:
                    info[name] = value
            self._message = info
        return self._message

    def content_type(self) -> str:
        """``Message.get_content_type()``."""
        if self._ct is None:
            return self._default
        ctype = self._ct.partition(";")[0].strip().lower()
        return ctype if ctype.count("/") == 1 else "text/plain"

    def disposition(self) -> str:
        """The lowercase disposition type, ``""`` if none."""
        return (self._cd or "").split(";")[0].strip().lower()

    def _param(self, name: str, content_type: bool = True) -> object:
        """``Message.get_param(name)`` for simple parameter lists (``_MISSING`` if absent)."""
        assert self._params is not None
        for key, value in self._params[0 if content_type else 1]:
            if key.lower() == name:
                return value
        return _MISSING

    def boundary(self) -> str | None:
        """``Message.get_boundary()``."""
        if self._params is None:
            return self.message.get_boundary()
        value = self._param("boundary")
        return None if value is _MISSING else str(value).rstrip()

    def filename(self) -> str | None:
        """``Message.get_filename()``."""
        if self._params is None:
            return self.message.get_filename()
        value = self._param("filename", content_type=False)
        if value is _MISSING:
            value = self._param("name")
        return None if value is _MISSING else str(value).strip()

    def charset(self) -> str | None:
        """``Message.get_content_charset()``."""
        if self._params is None:
            return self.message.get_content_charset()
        value = self._param("charset")
        return None if value is _MISSING else str(value).lower()


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
        # Most values are one line of plain text, which decode_header_value would only strip: do that inline.
        return [(name, value.strip() if "=?" not in value and "\n" not in value and "\r" not in value
                 else decode_header_value(value, address=name.lower() in ADDRESS_HEADERS))
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
    info = _PartInfo(headers, default)
    ctype = info.content_type()
    if not _MEDIA_TYPE.fullmatch(ctype):  # it is echoed in Content-Type headers later: only a clean token
        body.defects.append(f"unusable content type {ctype[:60]!r}, read as application/octet-stream")
        ctype = "application/octet-stream"
    defects = body.defects
    if ctype.startswith("multipart/") and depth < _MAX_DEPTH:
        boundary = info.boundary()
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


def _leaf(headers: list[tuple[str, str]], info: _PartInfo, ctype: str, data: bytes, body: _Body) -> None:
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
    uu_name = ""
    if cte in UU_ENCODINGS:
        uu, _ = decode_uu_part(data)
        if uu is None:
            defects.append(f"no uuencoded file in a {ctype} part sent as {cte}; kept as it is")
        else:
            content, uu_name = uu.content, uu.name
            if ctype in ("text/plain", "application/octet-stream"):  # the usual placeholders: the name says more
                ctype = guess_type(uu_name)
    disposition = info.disposition()
    try:
        filename = decode_header_value(info.filename() or "") or uu_name
    except Exception:  # email.utils can trip on pathological RFC 2231 values
        filename = uu_name
        defects.append(f"unreadable filename parameter in a {ctype} part")
    cid = decode_header_value(fields.get("content-id", "")) or None
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = decode_part(content, info.charset(), defects, html=ctype == "text/html").replace("\r\n", "\n")
        if ctype == "text/plain" and body.plain is None:
            body.plain, files = extract_uu_blocks(text)
            for uu in files:  # an inline "begin 644 name" block is a file, as mail clients show it
                attachments.append(Attachment(len(attachments), uu.name, guess_type(uu.name), uu.content, None,
                                              "attachment", len(uu.content)))
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
    # What re.finditer(rb"(?m)^--BOUNDARY(--)?[ \t]*\r?$") would find, with bytes.find doing the scanning.
    delimiter = b"--" + boundary
    parts: list[bytes] = []
    start: int | None = None
    pos = 0
    while (hit := data.find(delimiter, pos)) >= 0:
        tail = _DELIMITER_TAIL.match(data, hit + len(delimiter)) if hit == 0 or data[hit - 1] == 10 else None
        if tail is None:
            pos = hit + 1
            continue
        if start is not None:
            stop = hit - (2 if data[hit - 2:hit] == b"\r\n" else 1)
            parts.append(data[start:max(stop, start)])
        start = pos = tail.end()
        start += 1
        if tail.group(1):
            return parts
    if start is None:
        defects.append(f"boundary {boundary[:70]!r} never appears; body read as text")
        return None
    defects.append(f"closing boundary {boundary[:70]!r} is missing")
    parts.append(data[start:])
    return parts

