"""mailgun_mock.mail.uuencode: uuencoded files in x-uuencode parts and inline "begin 644" blocks."""

from __future__ import annotations

import binascii

from hypothesis import given, settings
from hypothesis import strategies as st

from mailgun_mock.mail.parse import ParsedMessage
from mailgun_mock.mail.uuencode import decode_uu_part, extract_uu_blocks, guess_type


def uu(name: str, data: bytes, mode: str = "644") -> str:
    """The uuencoded block for ``data``, as the uuencode tool writes it."""
    lines = [f"begin {mode} {name}"]
    lines += [binascii.b2a_uu(data[i:i + 45]).decode("ascii").rstrip("\n") for i in range(0, len(data), 45)]
    return "\n".join([*lines, "`", "end"])


def test_extract_uu_blocks_takes_the_file_out_of_the_text() -> None:
    """An inline block becomes a file and leaves the text, with one blank line kept between the paragraphs."""
    text = f"See below.\n\n{uu('a.bin', bytes(range(200)))}\n\nBye\n"
    assert extract_uu_blocks(text) == ("See below.\n\nBye\n", [extract_uu_blocks(text)[1][0]])
    (found,) = extract_uu_blocks(text)[1]
    assert (found.name, found.mode, found.content) == ("a.bin", "644", bytes(range(200)))


def test_extract_uu_blocks_tolerates_stripped_trailing_spaces() -> None:
    """Lines whose trailing spaces were stripped in transit still decode to the same bytes."""
    data = b"\x00" * 50
    block = "\n".join(line.rstrip(" ") for line in uu("zeros.bin", data).split("\n"))
    assert extract_uu_blocks(block)[1][0].content == data


def test_extract_uu_blocks_ignores_prose() -> None:
    """Prose that starts with "begin 644" but is not followed by uuencoded lines and "end" stays text."""
    text = "begin 644 people at the gate\nthen let them in\nend of story"
    assert extract_uu_blocks(text) == (text, [])


def test_extract_uu_blocks_needs_the_end_line() -> None:
    """A block cut off before its "end" line is left as text."""
    text = uu("a.bin", b"abc").rsplit("\n", 1)[0]
    assert extract_uu_blocks(text) == (text, [])


def test_decode_uu_part_reads_the_first_block() -> None:
    """A uuencode transfer-encoded body yields the file of its begin/end block."""
    found, ok = decode_uu_part(("\n" + uu("r.csv", b"a;b\n1;2\n") + "\n").replace("\n", "\r\n").encode())
    assert ok and found is not None and (found.name, found.content) == ("r.csv", b"a;b\n1;2\n")
    assert decode_uu_part(b"not uuencoded at all") == (None, False)


def test_guess_type_uses_the_builtin_table() -> None:
    """The media type comes from the file name, octet-stream when unknown."""
    assert (guess_type("a.png"), guess_type("a.csv"), guess_type("a.zzz")) == ("image/png", "text/csv",
                                                                               "application/octet-stream")


def test_parse_uuencode_part_without_a_block_is_kept_and_reported() -> None:
    """A part labelled x-uuencode that holds no block keeps its bytes and records a defect."""
    msg = ParsedMessage(b"Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: application/octet-stream; "
                        b"name=x.bin\nContent-Transfer-Encoding: x-uuencode\n\nrubbish\n--B--\n")
    (att,) = msg.attachments
    assert (att.filename, att.content) == ("x.bin", b"rubbish")
    assert msg.defects == ["no uuencoded file in a application/octet-stream part sent as x-uuencode; kept as it is"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.text(alphabet="abcXYZ.-_", min_size=1, max_size=12))
def test_uu_round_trip(data: bytes, name: str) -> None:
    """Whatever the bytes, an inline block gives them back exactly, under its name."""
    (found,) = extract_uu_blocks(f"Hi\n{uu(name, data)}\n")[1]
    assert (found.name, found.content) == (name, data)
