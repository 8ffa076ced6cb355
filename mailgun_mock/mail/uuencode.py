"""uuencoded files: ``Content-Transfer-Encoding: x-uuencode`` parts and inline ``begin 644 name`` blocks. Pure.

Mail clients (Thunderbird, Outlook, mutt) show both as attachments: pre-MIME senders and some scripts
still put a uuencoded file straight into a text body. A block is taken only when every line between
``begin`` and ``end`` is a well-formed uuencoded line, so prose that happens to start with "begin 644"
stays prose.
"""

from __future__ import annotations

import binascii
import mimetypes
import re
from dataclasses import dataclass

__all__ = ["UU_ENCODINGS", "UuFile", "decode_uu_part", "extract_uu_blocks", "guess_type"]

#: Content-Transfer-Encoding values that mean uuencode (none is standard; these are the ones in use).
UU_ENCODINGS = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})

_BEGIN = re.compile(r"begin +([0-7]{3,4}) +(\S.*?)[ \t]*\r?")
_END = re.compile(r"end[ \t]*\r?")
# Characters a uuencoded line may hold: the length character and data both lie in 0x20..0x60 ("`" = 0).
_UU_LINE = re.compile(r"[\x20-\x60]+")
_types: mimetypes.MimeTypes | None = None


@dataclass(frozen=True)
class UuFile:
    """One uuencoded file: the name and mode from its ``begin`` line, and the decoded bytes."""

    name: str
    mode: str
    content: bytes


def _decode_line(line: str) -> bytes | None:
    """The bytes of one uuencoded line, ``None`` if it is not one.

    Trailing spaces may have been stripped in transit (a2b_uu pads them back); a checksum character
    some encoders append after the data is ignored.
    """
    line = line.rstrip("\r\n")
    if not line or not _UU_LINE.fullmatch(line):
        return None
    size = (ord(line[0]) - 32) & 63
    needed = 1 + (size + 2) // 3 * 4
    if len(line) > needed + 2:
        return None
    try:
        return binascii.a2b_uu(line[:needed])
    except binascii.Error:
        return None


def _block(lines: list[str], begin: int) -> tuple[UuFile, int] | None:
    """Decode the block whose ``begin`` line is ``lines[begin]``: the file and the index of its ``end`` line."""
    head = _BEGIN.fullmatch(lines[begin])
    if head is None:
        return None
    chunks: list[bytes] = []
    for i in range(begin + 1, len(lines)):
        if _END.fullmatch(lines[i]):
            return UuFile(head.group(2), head.group(1), b"".join(chunks)), i
        data = _decode_line(lines[i])
        if data is None:
            return None
        chunks.append(data)
    return None


def decode_uu_part(data: bytes) -> tuple[UuFile | None, bool]:
    """Decode a part sent with a uuencode transfer encoding.

    :param data: the part's body.
    :return: the file from its first ``begin``...``end`` block and True, or ``(None, False)`` when there is
        no well-formed block (the caller keeps the bytes as they are).
    """
    lines = data.decode("latin-1").split("\n")
    for i, line in enumerate(lines):
        if line.startswith("begin ") and (found := _block(lines, i)) is not None:
            return found[0], True
    return None, False


def extract_uu_blocks(text: str) -> tuple[str, list[UuFile]]:
    """Take the uuencoded files out of a text body, as a mail client shows them: as attachments.

    :param text: a decoded text body with ``\\n`` line ends.
    :return: the text without the blocks (and without the blank line that separated each from the text
        before it), and the files in order. The text is returned unchanged when there are none.
    """
    if "begin " not in text:
        return text, []
    lines = text.split("\n")
    files: list[UuFile] = []
    keep: list[str] = []
    i = 0
    while i < len(lines):
        found = _block(lines, i) if lines[i].startswith("begin ") else None
        if found is None:
            keep.append(lines[i])
            i += 1
            continue
        files.append(found[0])
        i = found[1] + 1
        if keep and not keep[-1].strip() and (i >= len(lines) or not lines[i].strip()):
            keep.pop()  # the block stood in a paragraph of its own: drop one of the two blank lines around it
    return ("\n".join(keep), files) if files else (text, [])


def guess_type(name: str) -> str:
    """The media type for a uuencoded file's name (it carries no other), ``application/octet-stream`` if unknown."""
    global _types
    if _types is None:  # Python's built-in table only, not the system's mime.types: the same answer everywhere
        _types = mimetypes.MimeTypes()
    return _types.guess_type(name, strict=False)[0] or "application/octet-stream"
