"""Raw message -> the fields Mailgun posts (body-plain, stripped-text, attachments...). Pure, no I/O.

:class:`ParsedMessage` is lazy: constructing it costs nothing, headers are split by a small byte-level
splitter on first access, and the MIME body is walked only when a body or attachment property is
read, because most of the pipeline (route matching, events) needs the headers alone. Nothing here
raises on malformed mail: every problem is recorded in :attr:`ParsedMessage.defects` instead.
"""

from __future__ import annotations

import binascii
import email.utils
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage, Message
from functools import cached_property

from mailgun_mock.stripping import html_to_text, strip_html, strip_text

__all__ = ["Attachment", "ParsedMessage", "build_message", "decode_header_value"]

log = logging.getLogger("mailgun_mock")

# A header line as the stdlib feedparser sees it (printable ASCII except ':' for the name), plus the
# obsolete "Name :" spelling of RFC 5322 §4.5.
_HEADER_LINE = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?(.*?)\?=")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_ADDRESS_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"?|\((?:\\.|[^()\\])*\)?|<[^>]*>?|[,;:]|[^",;:<(]+')
_ADDRESS_SPEC = re.compile(r'[^\s<>"(),;:@]+@[^\s<>"(),;:@]+')
# Charsets that say nothing reliable about the bytes: treat them as undeclared.
_UNDECLARED = frozenset({"", "us-ascii", "ascii", "unknown", "unknown-8bit", "x-unknown", "default", "8bit"})
# Decode common labels with the superset that mail clients really use (as browsers do).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "shift_jis": "cp932", "x-sjis": "cp932", "utf8": "utf-8",
}
_EXTENSIONS = {
    "application/pdf": ".pdf", "application/zip": ".zip", "application/json": ".json", "image/png": ".png",
    "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "text/plain": ".txt", "text/html": ".html",
    "text/calendar": ".ics", "text/csv": ".csv", "application/ics": ".ics", "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt", "application/msword": ".doc", "application/octet-stream": ".bin",
    "application/pgp-signature": ".asc", "application/pkcs7-signature": ".p7s", "application/ms-tnef": ".dat",
}
# CRLF like SMTP, folding only past RFC 5322's 998-character limit: when the stdlib refolds an odd
# address header at 78 it can emit a continuation line without indentation, breaking the message.
_BUILD_POLICY = policy.SMTP.clone(max_line_length=998)
_MAX_DEPTH = 32  # deeper multiparts are kept whole as an attachment instead of recursing


def _decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Transcode ``data`` using ``charset``; undeclared or unknown charsets try UTF-8, then cp1252/latin-1.

    :param data: the raw bytes.
    :param charset: the declared charset, or ``None``.
    :param defects: if given, an unknown charset is reported here.
    :return: the text; never raises.
    """
    name = (charset or "").strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    if name not in _UNDECLARED and name != "utf-8":
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            try:
                return data.decode("latin-1" if name == "cp1252" else name, errors="replace")
            except Exception:  # a codec that cannot even replace: fall through to the guesses
                pass
        except Exception:  # LookupError, or a bytes-to-bytes codec such as "hex"
            if defects is not None:
                defects.append(f"unknown charset {charset!r}; decoded as UTF-8 or cp1252")
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Mixed text is common (a UTF-8 template filled with Latin-1 data), so guess line by line.
        return "".join(_decode_line(line) for line in data.splitlines(keepends=True))


def _decode_line(line: bytes) -> str:
    """Decode one line as UTF-8, else cp1252, else latin-1 (which always succeeds)."""
    for codec in ("utf-8", "cp1252"):
        try:
            return line.decode(codec)
        except UnicodeDecodeError:
            pass
    return line.decode("latin-1")


def _b64decode(data: bytes) -> tuple[bytes, bool]:
    """Decode base64 leniently: junk characters are dropped and missing padding is added.

    :return: the bytes and whether the input was clean.
    """
    compact = data.replace(b"\r", b"").replace(b"\n", b"").replace(b" ", b"").rstrip(b"=")
    clean = _NOT_BASE64.sub(b"", compact)
    ok = clean == compact
    if len(clean) % 4 == 1:  # a lone trailing sextet cannot encode a byte
        clean, ok = clean[:-1], False
    try:
        return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4)), ok
    except binascii.Error:
        return b"", False


#: Headers whose encoded words sit in display names: decoded text there keeps its quoting.
ADDRESS_HEADERS = frozenset({
    "from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to", "resent-cc", "resent-bcc",
    "resent-sender", "return-receipt-to", "disposition-notification-to", "mail-followup-to", "mail-reply-to",
})
_SPECIALS = frozenset('()<>[]:;@\\,."')


def _quote_phrase(text: str) -> str:
    """Quote decoded display-name text holding specials, so ``Müller, Jürgen`` stays one name."""
    if not any(c in _SPECIALS for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def decode_header_value(value: str, *, address: bool = False) -> str:
    """Unfold one raw header value and decode its RFC 2047 encoded words.

    Adjacent encoded words in one charset are joined before decoding, so a multi-byte character split
    across two words survives; unknown charsets fall back to UTF-8, then cp1252.

    :param value: the value as it appears after ``Name:``, possibly folded.
    :param address: the value is an address list (From, To…): decoded display names that hold
        specials such as a comma are quoted, so the list still parses to the same addresses.
    :return: the decoded text, stripped; never raises.
    """
    try:
        if "\n" in value or "\r" in value:
            value = _FOLD.sub("", value).replace("\r", "").replace("\n", "")
        if "=?" not in value:
            return value.strip()
        pieces: list[tuple[str, bytes | str]] = []  # (charset or "" for plain text, payload)
        pos = 0
        for m in _ENCODED_WORD.finditer(value):
            gap = value[pos:m.start()]
            # Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
            if gap and not (gap.isspace() and pieces and pieces[-1][0]):
                pieces.append(("", gap))
            charset, enc, text = m.group(1).split("*")[0].lower(), m.group(2).upper(), m.group(3)
            raw = text.encode("utf-8")
            data = _b64decode(raw)[0] if enc == "B" else binascii.a2b_qp(raw, header=True)
            if pieces and pieces[-1][0] == charset and isinstance(pieces[-1][1], bytes):
                pieces[-1] = (charset, pieces[-1][1] + data)
            else:
                pieces.append((charset, data))
            pos = m.end()
        pieces.append(("", value[pos:]))
        decoded = (p if isinstance(p, str) else _decode_bytes(p, c) for c, p in pieces)
        if not address:
            return "".join(decoded).strip()
        out: list[str] = []
        for (_, piece), text in zip(pieces, decoded):
            if isinstance(piece, str):
                out.append(text)
            elif "".join(out).replace('\\"', "").count('"') % 2:  # already inside a quoted string
                out.append(text.replace("\\", "\\\\").replace('"', '\\"'))
            else:
                out.append(_quote_phrase(text))
        return "".join(out).strip()
    except Exception:  # pragma: no cover - belt and braces: header decoding must never fail
        log.debug("header value could not be decoded: %r", value, exc_info=True)
        return value.strip()


def _split_head(data: bytes) -> tuple[list[tuple[str, str]], int, list[str]]:
    """Split a header block the way the stdlib feedparser does, without building a Message.

    A line that is neither a header nor a continuation ends the headers and starts the body, as in the
    stdlib, so the application parsing the same bytes sees the same split.

    :param data: a whole message or MIME part.
    :return: ``(name, raw value)`` pairs (value still folded and encoded), the body offset, defects.
    """
    headers: list[tuple[bytes, list[bytes]]] = []
    defects: list[str] = []
    pos, end = 0, len(data)
    while pos < end:
        eol = data.find(b"\n", pos)
        nxt = end if eol < 0 else eol + 1
        line = data[pos:nxt]
        content = line.rstrip(b"\r\n")
        if not content:
            pos = nxt
            break
        if content[:1] in (b" ", b"\t"):
            if headers:
                headers[-1][1].append(line)
            else:
                defects.append("the first header line is a continuation line; ignored")
        elif (m := _HEADER_LINE.match(content)) is not None:
            headers.append((m.group(1), [content[m.end():].lstrip(b" \t"), line[len(content):]]))
        elif pos == 0 and content.startswith(b"From "):
            pass  # an mbox envelope line, not a header
        else:
            defects.append(f"header line without a colon ends the headers: {content[:60]!r}")
            break
        pos = nxt
    out = []
    for name, parts in headers:
        value = b"".join(parts).rstrip(b"\r\n")
        out.append((name.decode("ascii"), value.decode("ascii") if value.isascii() else _decode_bytes(value, None)))
    return out, pos, defects


def _parse_addresses(value: str) -> list[str]:
    """Extract addr-specs from one address-list header value (raw, so encoded names hold no commas).

    :param value: an unfolded, undecoded To/Cc-style value.
    :return: the addr-specs in order; group names and junk without ``@`` are dropped.
    """
    found: list[str] = []
    text: list[str] = []
    angle: str | None = None
    for token in [*_ADDRESS_TOKEN.findall(value), ","]:
        if token in (",", ";"):
            if angle is not None:
                candidate = angle.strip("<>").rsplit(":", 1)[-1].strip()  # drop a source route "@a,@b:"
            else:
                candidate = "".join(text).strip()
            if "@" in candidate and not re.search(r"\s|^\"|\"$", re.sub(r'"[^"]*"@', "@", candidate)):
                found.append(candidate)
            else:  # unterminated quotes, bare words around the address...: take what looks like one
                found.extend(_ADDRESS_SPEC.findall(" ".join([*text, angle or ""])))
            text, angle = [], None
        elif token.startswith("<"):
            angle = token
        elif token == ":":
            text = []  # "Group name:" opens a group; the name is not an address
        elif not token.startswith("("):  # comments are dropped
            text.append(token)
    return found


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
        return _split_head(self.raw)

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
                for addr in _parse_addresses(_FOLD.sub("", value)):
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
            info[name] = _FOLD.sub("", value)  # encoded words are decoded per parameter, after parsing
    ctype = info.get_content_type()
    defects = body.defects
    if ctype.startswith("multipart/") and depth < _MAX_DEPTH:
        boundary = info.get_boundary()
        parts = _split_multipart(data, boundary.encode("utf-8"), defects) if boundary else None
        if parts is not None:
            child_default = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
            for part in parts:
                part_headers, offset, part_defects = _split_head(part)
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
        content, ok = _b64decode(data)
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
        text = _decode_bytes(content, info.get_content_charset(), defects).replace("\r\n", "\n")
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


def build_message(
    *,
    from_: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str = "",
    text: str | None = None,
    html: str | None = None,
    attachments: Iterable[tuple[str, bytes, str]] = (),
    inline: Iterable[tuple[str, bytes, str]] = (),
    headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """Build an RFC 5322 message the way Mailgun assembles one from API fields.

    text+html become multipart/alternative, ``inline`` files join the HTML in multipart/related with
    ``Content-ID: <filename>`` (as Mailgun does), and ``attachments`` make it multipart/mixed. Date and
    Message-Id are added when ``headers`` lacks them; non-ASCII headers are RFC 2047 encoded.

    :param from_: the From header.
    :param to: To addresses (display names allowed).
    :param cc: Cc addresses.
    :param subject: the Subject.
    :param text: the text/plain body.
    :param html: the text/html body.
    :param attachments: ``(filename, content, content_type)`` files.
    :param inline: ``(filename, content, content_type)`` files referenced as ``cid:filename``.
    :param headers: extra headers, added in order after the standard ones.
    :return: the message bytes with CRLF line endings.
    :raises ValueError: for a header name that is not printable ASCII without ``:`` or space, or an
        address header so malformed that no address can be written.
    """
    extra = list(headers)
    for name, _ in extra:
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"invalid header name {name!r}")
    # Internationalised addresses cannot be RFC 2047-encoded (the stdlib would try), so such a
    # message is written as SMTPUTF8 mail with raw UTF-8 headers.
    eai = any(not a.isascii() for a in _parse_addresses(", ".join([from_, *to, *cc])))
    msg = EmailMessage(policy=_BUILD_POLICY.clone(utf8=True) if eai else _BUILD_POLICY)

    def put(name: str, value: str) -> None:
        value = " ".join(str(value).splitlines())  # a header must not smuggle in a line break
        try:
            msg[name] = value
            return
        except Exception:  # the stdlib's address parser trips on odd display names such as "."
            pass
        pairs = [pair for pair in email.utils.getaddresses([value]) if "@" in pair[1]]
        try:
            msg[name] = ", ".join(email.utils.formataddr(pair, charset="utf-8") for pair in pairs)
        except Exception as exc:
            raise ValueError(f"cannot write a {name} header from {value!r}") from exc

    put("From", from_)
    for name, addresses in (("To", to), ("Cc", cc)):
        if any(a.strip() for a in addresses):
            put(name, ", ".join(a for a in addresses if a.strip()))
    put("Subject", subject)
    names = {name.lower() for name, _ in extra}
    if "date" not in names:
        put("Date", email.utils.format_datetime(datetime.now(timezone.utc)))
    if "message-id" not in names:
        domain = email.utils.parseaddr(from_)[1].rpartition("@")[2]
        domain = domain if _DOMAIN.fullmatch(domain) else "mailgun-mock.invalid"
        put("Message-Id", email.utils.make_msgid(domain=domain))
    for name, value in extra:
        put(name, value)
    if html is not None and text is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text or "")
        if html is not None:
            msg.add_alternative(html, subtype="html")
    html_part = next((p for p in msg.walk() if p.get_content_type() == "text/html"), msg)
    for filename, content, content_type in inline:
        _add_file(html_part, filename, content, content_type, related=True)
    for filename, content, content_type in attachments:
        _add_file(msg, filename, content, content_type, related=False)
    try:
        return msg.as_bytes()
    except UnicodeEncodeError:  # a non-ASCII address (EAI) cannot be encoded: send it as SMTPUTF8 does
        return msg.as_bytes(policy=_BUILD_POLICY.clone(utf8=True))
    except Exception as exc:  # the stdlib's header folder gives up on some malformed address headers
        raise ValueError(f"cannot serialise the message: {exc!r}") from exc


def _add_file(part: EmailMessage, filename: str, content: bytes, content_type: str, *, related: bool) -> None:
    """Attach one file to ``part`` as an attachment or as an inline related part."""
    filename = _LINE_BREAKS.sub(" ", filename)  # a line break would end the header it is written in
    maintype, _, subtype = content_type.split(";")[0].strip().lower().partition("/")
    if not _FIELD_NAME.fullmatch(maintype) or not _FIELD_NAME.fullmatch(subtype) or "/" in subtype:
        maintype, subtype = "application", "octet-stream"
    # message/* may not be base64-encoded (RFC 2046 §5.2.1), so keep the bytes as they are.
    cte = ("7bit" if content.isascii() else "8bit") if maintype == "message" else "base64"
    if related:
        part.add_related(bytes(content), maintype=maintype, subtype=subtype, filename=filename, cte=cte,
                         cid=f"<{filename}>", disposition="inline")
    else:
        part.add_attachment(bytes(content), maintype=maintype, subtype=subtype, filename=filename, cte=cte)
