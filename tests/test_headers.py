"""mailgun_mock.mail.headers: unfolding and RFC 2047 decoding of header values, charset fallbacks, address lists."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgun_mock.mail.headers import decode_bytes, decode_header_value, split_address_list, split_head

# --- decode_header_value -------------------------------------------------------------------------

def test_decode_header_value_utf8_base64() -> None:
    """A UTF-8 B-encoded word decodes to its text."""
    assert decode_header_value("=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=") == "Grüße aus Köln"


def test_decode_header_value_utf8_q_with_underscores() -> None:
    """A Q-encoded word decodes =XX escapes and turns underscores into spaces."""
    assert decode_header_value("=?utf-8?q?Caf=C3=A9_cr=C3=A8me?=") == "Café crème"


def test_decode_header_value_iso_8859_1() -> None:
    """An ISO-8859-1 word decodes, with text around it kept."""
    assert decode_header_value("Re: =?ISO-8859-1?Q?R=E9union_=E0_10h?= demain") == "Re: Réunion à 10h demain"


def test_decode_header_value_iso_2022_jp() -> None:
    """An ISO-2022-JP B-encoded word (common in Japanese mail) decodes to Japanese text."""
    word = base64.b64encode("会議の議事録".encode("iso-2022-jp")).decode()
    assert decode_header_value(f"=?ISO-2022-JP?B?{word}?=") == "会議の議事録"


def test_decode_header_value_unknown_charset_falls_back_to_utf8() -> None:
    """An unknown charset label decodes the bytes as UTF-8 rather than failing."""
    assert decode_header_value("=?x-unknown-label?Q?na=C3=AFve?=") == "naïve"


def test_decode_header_value_unknown_charset_latin1_bytes() -> None:
    """An unknown charset with bytes that are not UTF-8 falls back to cp1252."""
    assert decode_header_value("=?bogus?Q?fa=E7ade?=") == "façade"


def test_decode_header_value_unfolds_and_joins_adjacent_words() -> None:
    """Folding is removed and whitespace between two encoded words disappears."""
    value = "=?utf-8?q?Hello_?=\r\n =?utf-8?q?W=C3=B6rld?=\r\n\tand more"
    assert decode_header_value(value) == "Hello Wörld\tand more"


def test_decode_header_value_joins_multibyte_character_split_across_words() -> None:
    """A UTF-8 character whose bytes straddle two encoded words is reassembled."""
    assert decode_header_value("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=") == "café"


def test_decode_header_value_leaves_malformed_word_alone() -> None:
    """An unterminated encoded word stays as literal text."""
    assert decode_header_value("Order (=?utf-8?Q?unterminated") == "Order (=?utf-8?Q?unterminated"


@given(st.text(max_size=300))
def test_decode_header_value_never_raises(value: str) -> None:
    """decode_header_value returns a str for any input."""
    assert isinstance(decode_header_value(value), str)



# --- split_address_list --------------------------------------------------------------------------

def test_split_address_list_keeps_items_as_given() -> None:
    """Commas in quotes, comments and angle brackets do not split; each item is kept with its addr-spec."""
    assert split_address_list('"Doe, Jane" <jane@x.org>, b@y.org (Bob, Jr.) ,, x@[1.2.3.4]') == [
        ('"Doe, Jane" <jane@x.org>', "jane@x.org"), ("b@y.org (Bob, Jr.)", "b@y.org"), ("x@[1.2.3.4]", "x@[1.2.3.4]")]
    assert split_address_list(" , ") == []


@pytest.mark.parametrize("value", [
    '"unclosed <a@x.org>', "<a@x.org", "a@x.org>", "(open a@x.org", "Ann <a@x.org> <b@x.org>", "<a@x.org> junk",
    "not an address", "a b@x.org", "a\x01@x.org", "ok@x.org, bad",
])
def test_split_address_list_refuses_any_invalid_item(value: str) -> None:
    """One unbalanced quote, bracket or comment, or one item that is not an address, makes the whole list None."""
    assert split_address_list(value) is None


# --- split_head against the line-by-line reference -----------------------------------------------

_REF_HEADER_LINE = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")


def reference_split_head(data: bytes) -> tuple[list[tuple[str, str]], int, list[str]]:
    """The original line-by-line split_head: the regex version must agree with it on every input."""
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
        elif (m := _REF_HEADER_LINE.match(content)) is not None:
            headers.append((m.group(1), [content[m.end():].lstrip(b" \t"), line[len(content):]]))
        elif pos == 0 and content.startswith(b"From "):
            pass
        else:
            defects.append(f"header line without a colon ends the headers: {content[:60]!r}")
            break
        pos = nxt
    out = []
    for name, parts in headers:
        value = b"".join(parts).rstrip(b"\r\n")
        out.append((name.decode("ascii"), value.decode("ascii") if value.isascii() else decode_bytes(value, None)))
    return out, pos, defects


_HEAD_PIECES = st.sampled_from([b"Subject", b"From ", b"X-A", b":", b" :", b" ", b"\t", b"\n", b"\r\n", b"\r", b"\n ",
                                b"\n\t", b"\n\n", b"\r\r\n", b"value", b"=?utf-8?q?x?=", b"\xe9", b"\xc3\xa9", b"\x00",
                                b"a:b", b"--", b"From x\n"])


@given(st.one_of(st.binary(max_size=200), st.lists(_HEAD_PIECES, max_size=40).map(b"".join)))
def test_split_head_matches_line_by_line_reference(data: bytes) -> None:
    """The regex splitter gives the same headers, body offset and defects as the line-by-line one."""
    assert split_head(data) == reference_split_head(data)


@given(st.lists(st.sampled_from(["a", " ", "\t", "\r", "\n", "\r\n", "\r\n ", "\n\t", "=?", "=?utf-8?q?x?=", "é"]),
                max_size=30).map("".join))
def test_decode_header_value_line_breaks_match_unfold_then_drop(value: str) -> None:
    """Dropping every CR and LF is the same as unfolding and then dropping the stray line breaks."""
    reference = re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")
    assert decode_header_value(value) == decode_header_value(reference)
