"""Links and one-time codes found in a message (mail/extract.py), as /mock/messages reports them."""

from __future__ import annotations

import pytest

from mailgun_mock.mail.extract import find_codes, find_links


@pytest.mark.parametrize(("text", "codes"), [
    ("Your verification code is 123456.", ["123456"]),
    ("Your code: A7K9Q2", ["A7K9Q2"]),
    ("PIN 4821", ["4821"]),
    ("Tu código es 938 271", ["938 271"]),
    ("Use 123-456 to sign in (code)", ["123-456"]),
    ("Call 555-1234 about your code 8842 now", ["8842", "555-1234"]),
    ("Ihr Bestätigungscode lautet 55 1234", ["1234"]),
    ("Order 2024 shipped", []),
    ("Your Code is ABCDEF", []),
    ("code https://x.example/12345678 and bob@4821.example", []),
])
def test_extract_codes_near_their_word(text: str, codes: list[str]) -> None:
    """Codes of 4-10 digits or capitals (with a digit) near code/PIN/verification/código, after the word first."""
    assert find_codes(text) == codes


def test_extract_pattern_replaces_the_finder() -> None:
    """A caller's pattern finds every match (its first group when it has one); a bad one raises ValueError."""
    assert find_codes("ref ABC-1234, ABC-99, ABC-1234", pattern=r"ABC-(\d+)") == ["1234", "99"]
    assert find_codes("x 12 y 7", pattern=r"\d+") == ["12", "7"]
    with pytest.raises(ValueError, match="'pattern'"):
        find_codes("x", pattern="(")


def test_extract_links_html_first_then_text_deduplicated() -> None:
    """http(s) hrefs of <a>/<area> (entities decoded), then URLs in the text, once each, in order."""
    html = ('<a href="https://a.example/x?a=1&amp;b=2">x</a><a href="mailto:x@y.z">m</a>'
            '<area href="http://b.example/map"><a href=https://a.example/x?a=1&b=2>again</a>')
    text = "Open https://c.example/path. Or (http://b.example/map)"
    assert find_links(html, text) == ["https://a.example/x?a=1&b=2", "http://b.example/map", "https://c.example/path"]
    assert find_links("", "") == [] and find_links("<a href='https://'>", "") == []
