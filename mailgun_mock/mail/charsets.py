"""Body-part text decoding as a mail client does it: the whole part in its declared charset. Pure, no I/O.

A declared charset is believed unless the bytes say otherwise: invalid sequences become U+FFFD where
they are, nothing else changes. It is overruled only when it cannot be right: an unknown label, bytes
that are valid UTF-8 under a legacy 8-bit label (the commonest mislabel: a UTF-8 template sent as
ISO-8859-1), or "UTF-8" whose invalid sequences outnumber its valid ones (Latin-1 or Cyrillic text
sent as UTF-8). Undeclared and overruled parts are detected: ASCII, then UTF-8, then a real detector
(charset-normalizer) for legacy text. Header values stay with :func:`mailgun_mock.mail.headers.decode_bytes`:
a header is too short for statistics.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_part", "detect_legacy"]

# Labels that say nothing reliable about the bytes: treated as undeclared.
_UNDECLARED = frozenset({"", "us-ascii", "ascii", "unknown", "unknown-8bit", "x-unknown", "default", "8bit",
                         "x-user-defined", "none"})
# Decode common labels with the superset that mail clients really use (as browsers do, WHATWG Encoding).
_ALIASES = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252",
    "us": "cp1252", "windows-1252": "cp1252", "iso-8859-9": "cp1254", "latin5": "cp1254", "tis-620": "cp874",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8", "big5": "big5hkscs", "x-mac-roman": "mac-roman",
}
# Codecs whose ASCII bytes are not ASCII text (escape sequences, other unit sizes): never shortcut them.
_NOT_ASCII_SAFE = ("utf_16", "utf_32", "utf_7", "iso2022", "hz")
# The legacy charsets mail is actually written in, most common first: the detector chooses among these
# only (left alone it answers hp_roman8 or cp1006 for short Western text), and close calls go to the
# earlier one, so plain Western text comes out as windows-1252 rather than its Central European twin.
MAIL_CHARSETS = (
    "cp1252", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp1253",
    "iso8859_7", "cp1254", "cp1257", "cp1255", "cp1256", "cp874", "cp932", "euc_jp", "iso2022_jp", "gb18030",
    "big5hkscs", "cp949", "cp1258",
)
_CJK = frozenset({"cp932", "euc_jp", "iso2022_jp", "gb18030", "big5hkscs", "cp949"})
# A valid UTF-8 sequence of two or more bytes (no overlongs, no surrogates), for counting evidence.
_UTF8_MULTI = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
                         rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
                         rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.I)
# windows-1252 leaves five bytes undefined; ISO-8859-1 (the label it stands in for) maps them to C1 controls.
_CP1252_HIGH = {i: bytes([i]).decode("cp1252", "ignore") or chr(i) for i in range(0x80, 0xA0)}


def _codec(label: str | None) -> tuple[str | None, bool]:
    """The Python codec for a declared label: ``(codec, declared)``; codec ``None`` when unknown.

    :return: ``declared`` is False for labels that carry no information (``us-ascii``, ``unknown-8bit``...).
    """
    name = (label or "").strip().strip("\"'").lower()
    if name in _UNDECLARED:
        return None, False
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None, True
    if not getattr(info, "_is_text_encoding", True):  # bytes-to-bytes codecs such as "hex" or "zlib"
        return None, True
    return info.name, True


def _cp1252(data: bytes) -> str:
    """windows-1252 with ISO-8859-1's C1 controls for its five undefined bytes: never fails."""
    return data.decode("latin-1").translate(_CP1252_HIGH)


def _decode(data: bytes, codec: str) -> str:
    """Decode with ``codec``, invalid sequences replaced by U+FFFD where they are."""
    return _cp1252(data) if codec == "cp1252" else data.decode(codec, errors="replace")


def _utf8_evidence(data: bytes) -> tuple[int, int]:
    """``(valid multi-byte sequences, invalid sequences)`` when ``data`` is read as UTF-8."""
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # a real U+FFFD in the text is not an error
    return len(_UTF8_MULTI.findall(data)), invalid


def detect_legacy(data: bytes) -> str:
    """The legacy (non-UTF-8) charset ``data`` is most likely written in, as a codec name.

    charset-normalizer decides among :data:`MAIL_CHARSETS`: a clean multi-byte CJK decoding wins, and of
    tied answers (same chaos and coherence) the most common in mail. windows-1252 when it has
    no answer.
    """
    import charset_normalizer  # costs ~20 ms to import, and only undeclared legacy text needs it

    if data.isascii():
        return "cp1252"
    matches = list(charset_normalizer.from_bytes(data, cp_isolation=list(MAIL_CHARSETS)))
    if not matches:
        return "cp1252"
    best = matches[0]
    calm = [m for m in matches if m.chaos <= best.chaos + 0.001]
    # Text that decodes cleanly in a multi-byte CJK charset is CJK: a single-byte charset decodes anything,
    # and charset-normalizer's coherence (letter frequencies) scores CJK at 0, so ranking alone can pick Thai.
    cjk = [m for m in calm if m.encoding in _CJK]
    if cjk:
        return codecs.lookup(cjk[0].encoding).name
    close = [m for m in calm if abs(m.coherence - best.coherence) < 0.001]
    rank = {name: i for i, name in enumerate(MAIL_CHARSETS)}
    names = [name for m in close for name in m.could_be_from_charset if name in rank]
    return codecs.lookup(min(names, key=rank.__getitem__) if names else best.encoding).name


def _undeclared(data: bytes, html: bool) -> str:
    """Decode text whose charset is missing or wrong: ASCII, UTF-8, mixed UTF-8, else detected."""
    if html and (meta := _META_CHARSET.search(data, 0, 2048)):  # what a browser would go by
        codec, _ = _codec(meta.group(1).decode("ascii"))
        if codec is not None and codec != "utf-8":
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    valid, invalid = _utf8_evidence(data)
    if valid < invalid:  # legacy text (multi-byte legacy charsets hold a few UTF-8-looking pairs by chance)
        return _decode(data, detect_legacy(data))
    # UTF-8 with legacy lines in it (a UTF-8 template filled with Latin-1 data, cron mail...): UTF-8
    # lines stay UTF-8, lines with no UTF-8 at all are legacy text, and a line holding both keeps its
    # UTF-8 with U+FFFD for the bad bytes. No valid UTF-8 sequence is ever read as a legacy charset.
    lines = data.splitlines(keepends=True)
    legacy = [line for line in lines if not line.isascii() and not _UTF8_MULTI.search(line)]
    codec = detect_legacy(b"".join(legacy)) if legacy else "cp1252"
    out = []
    for line in lines:
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("utf-8", errors="replace") if _UTF8_MULTI.search(line) else _decode(line, codec))
    return "".join(out)


def decode_part(data: bytes, charset: str | None, defects: list[str] | None = None, *, html: bool = False) -> str:
    """Decode a text part as a whole, as a mail client would.

    :param data: the part's bytes after transfer decoding.
    :param charset: the declared charset parameter, or ``None``.
    :param defects: if given, an unknown or overruled charset is reported here.
    :param html: the part is HTML, so a ``<meta charset>`` counts when the MIME header declares none.
    :return: the text; never raises.
    """
    codec, declared = _codec(charset)
    if codec is None:
        if declared and defects is not None:
            defects.append(f"unknown charset {charset!r}; detected from the bytes")
        return data.decode("ascii") if data.isascii() else _undeclared(data, html)
    if data.isascii() and not codec.startswith(_NOT_ASCII_SAFE):
        return data.decode("ascii")
    if codec == "utf-8":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            valid, invalid = _utf8_evidence(data)
        if valid >= invalid:  # UTF-8 with a few bad bytes: the declaration stands
            return data.decode("utf-8", errors="replace")
        if defects is not None:
            defects.append(f"declared charset {charset!r} does not fit the bytes; detected from the bytes")
        return _undeclared(data, html)
    if not codec.startswith(_NOT_ASCII_SAFE):
        try:  # valid UTF-8 (with non-ASCII) under a legacy label: the label is wrong
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if defects is not None:
                defects.append(f"declared charset {charset!r} but the bytes are UTF-8; decoded as UTF-8")
            return text
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    except Exception:  # a codec that cannot even decode (a broken third-party codec)
        return _undeclared(data, html)
    text = _decode(data, codec)
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    if bad * 2 <= len(text) - len(text.encode("ascii", "ignore")):  # a few bad bytes: the declaration stands
        return text
    if defects is not None:
        defects.append(f"declared charset {charset!r} does not fit the bytes; detected from the bytes")
    return _undeclared(data, html)
