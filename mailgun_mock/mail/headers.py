"""Header-level mail work: split a header block, decode values and charsets, parse address lists. Pure, no I/O.

Nothing here raises on malformed input: decoders fall back to a best guess, and the header splitter
reports problems as defect strings.
"""

from __future__ import annotations

import binascii
import logging
import re
from collections.abc import Collection

__all__ = [
    "ADDRESS_HEADERS", "decode_base64", "decode_bytes", "decode_header_value", "drop_fields", "parse_addresses",
    "split_address_list", "split_head", "unfold",
]

log = logging.getLogger("mailgun_mock")

# A header field as the stdlib feedparser sees it (printable ASCII except ':' for the name, plus the
# obsolete "Name :" spelling of RFC 5322 §4.5), with its value from the first non-blank character and
# every continuation line (a line starting with a space or tab), which makes the value contiguous.
_HEADER_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)\n?")
_STR_FIELD = re.compile(_HEADER_FIELD.pattern.decode("ascii"))
_HEADER_BLOCK = re.compile(rb"(?:[\x21-\x39\x3b-\x7e]+[ \t]*:[^\n]*(?:\n[ \t][^\n]*)*(?:\n|\Z))*")
_BLANK_LINE = re.compile(rb"\r*(?:\n|\Z)")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?(.*?)\?=")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_ADDRESS_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"?|\((?:\\.|[^()\\])*\)?|<[^>]*>?|[,;:]|[^",;:<(]+')
_ADDRESS_SPEC = re.compile(r'[^\s<>"(),;:@]+@[^\s<>"(),;:@]+')
# The strict grammar of split_address_list: RFC 5322 dot-atoms or quoted local parts, domain literals.
_ATOMS = r'[^\s"(),.:;<>@\[\]\\]+(?:\.[^\s"(),.:;<>@\[\]\\]+)*'
_STRICT_ADDR_SPEC = re.compile(rf'(?:{_ATOMS}|"(?:[^"\\]|\\.)*")@(?:{_ATOMS}|\[[^\[\]\\\s]*\])')
_LIST_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\((?:[^()\\]|\\.)*\)|<[^<>]*>|[^"(<>),]+|.', re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LINE = re.compile(rb"[^\n]*\n|[^\n]+")
# Charsets that say nothing reliable about the bytes: treat them as undeclared.
_UNDECLARED = frozenset({"", "us-ascii", "ascii", "unknown", "unknown-8bit", "x-unknown", "default", "8bit"})
# Decode common labels with the superset that mail clients really use (as browsers do).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "shift_jis": "cp932", "x-sjis": "cp932", "utf8": "utf-8",
}


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
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


def decode_base64(data: bytes) -> tuple[bytes, bool]:
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


def unfold(value: str) -> str:
    """Remove the folding (a line break before whitespace) from a raw header value, keeping the whitespace."""
    return _FOLD.sub("", value)


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
            # Unfolding and then dropping stray line breaks removes every CR and LF: do it directly.
            value = value.replace("\r", "").replace("\n", "")
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
            data = decode_base64(raw)[0] if enc == "B" else binascii.a2b_qp(raw, header=True)
            if pieces and pieces[-1][0] == charset and isinstance(pieces[-1][1], bytes):
                pieces[-1] = (charset, pieces[-1][1] + data)
            else:
                pieces.append((charset, data))
            pos = m.end()
        pieces.append(("", value[pos:]))
        decoded = (p if isinstance(p, str) else decode_bytes(p, c) for c, p in pieces)
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


def split_head(data: bytes) -> tuple[list[tuple[str, str]], int, list[str]]:
    """Split a header block the way the stdlib feedparser does, without building a Message.

    A line that is neither a header nor a continuation ends the headers and starts the body, as in the
    stdlib, so the application parsing the same bytes sees the same split.

    :param data: a whole message or MIME part.
    :return: ``(name, raw value)`` pairs (value still folded and encoded), the body offset, defects.
    """
    out: list[tuple[str, str]] = []
    defects: list[str] = []
    pos, end = 0, len(data)
    block, blank = _HEADER_BLOCK.match, _BLANK_LINE.match
    while pos < end:
        # A run of whole header fields (each with its continuation lines): split it in one go, and
        # decode it once when it is ASCII, which it nearly always is.
        run_match = block(data, pos)  # always matches, possibly empty
        if run_match is not None and (stop := run_match.end()) > pos:
            run = data[pos:stop]
            if run.isascii():
                out.extend([(name, value.rstrip("\r\n")) for name, value in _STR_FIELD.findall(run.decode("ascii"))])
            else:
                for name, value in _HEADER_FIELD.findall(run):
                    value = value.rstrip(b"\r\n")
                    out.append((name.decode("ascii"),
                                value.decode("ascii") if value.isascii() else decode_bytes(value, None)))
            pos = stop
            continue
        if (b := blank(data, pos)) is not None:
            pos = b.end()
            break
        eol = data.find(b"\n", pos)
        nxt = end if eol < 0 else eol + 1
        content = data[pos:nxt].rstrip(b"\r\n")
        if content[:1] in (b" ", b"\t"):
            # Continuations after a header are taken by _HEADER_BLOCK, so there is no header to extend.
            defects.append("the first header line is a continuation line; ignored")
        elif pos == 0 and content.startswith(b"From "):
            pass  # an mbox envelope line, not a header
        else:
            defects.append(f"header line without a colon ends the headers: {content[:60]!r}")
            break
        pos = nxt
    return out, pos, defects


def drop_fields(data: bytes, names: Collection[str]) -> bytes:
    """``data`` without the header fields named (any case), their continuation lines included; every
    other byte, the body's too, is kept as it was.

    :param data: a whole message.
    :param names: header names to remove.
    """
    wanted = {name.lower() for name in names}
    fields, body_at, _ = split_head(data)
    if not any(name.lower() in wanted for name, _ in fields):
        return data
    kept: list[bytes] = []
    keep = True
    for line in _LINE.findall(data, 0, body_at):
        if line[:1] not in (b" ", b"\t"):  # a field's first line (or the mbox line, or the blank line)
            name, colon, _ = line.partition(b":")
            keep = not colon or name.strip().decode("ascii", "replace").lower() not in wanted
        if keep:
            kept.append(line)
    return b"".join(kept) + data[body_at:]


def parse_addresses(value: str) -> list[str]:
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


def split_address_list(value: str) -> list[tuple[str, str]] | None:
    """Split a comma-separated address list into ``(item as given, addr-spec)`` pairs; None if any is invalid.

    Commas inside quotes, comments and angle brackets do not split, so ``"Doe, Jane" <jane@x.org>`` is one item.
    An unbalanced quote, bracket or parenthesis (or a nested comment) makes the list invalid. Unlike the lenient
    :func:`parse_addresses`, this is the check for addresses given to the sending API.
    """
    pairs, item = [], []
    for token in [*_LIST_TOKEN.findall(value), ","]:
        if token in ('"', "(", ")", "<", ">"):
            return None
        if token != ",":
            item.append(token)
            continue
        tokens, item = item, []
        text = "".join(tokens).strip()
        angles = [n for n, t in enumerate(tokens) if t[0] == "<"]
        if not text:
            continue
        if len(angles) > 1 or angles and any(not t.isspace() and t[0] != "(" for t in tokens[angles[0] + 1:]):
            return None
        spec = (tokens[angles[0]][1:-1] if angles else "".join(t for t in tokens if t[0] != "(")).strip()
        if _CONTROL.search(text) or not _STRICT_ADDR_SPEC.fullmatch(spec):
            return None
        pairs.append((text, spec))
    return pairs
