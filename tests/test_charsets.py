"""mailgun_mock.mail.charsets: a text part decoded as a whole, in its declared charset unless the bytes say otherwise."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailgun_mock.mail.charsets import MAIL_CHARSETS, decode_part, detect_legacy

GERMAN = "Hallo Herr Müller,\nvielen Dank für Ihre Nachricht. Die Lieferung erfolgt nächste Woche über den Spediteur.\n"
RUSSIAN = "Здравствуйте, Иван!\nСпасибо за письмо. Встреча переносится на четверг, в десять утра.\n"


def test_decode_part_ascii_fast_path() -> None:
    """ASCII bytes under any ASCII-compatible label decode as ASCII."""
    assert decode_part(b"plain text", "windows-1251") == "plain text"


def test_decode_part_iso_2022_jp_is_decoded_although_ascii() -> None:
    """ISO-2022-JP is 7-bit but not ASCII text: its escape sequences are decoded."""
    data = "こんにちは".encode("iso-2022-jp")
    assert data.isascii() and decode_part(data, "iso-2022-jp") == "こんにちは"


def test_decode_part_utf8_invalid_bytes_replaced_in_place() -> None:
    """Declared UTF-8 with two bad bytes in a long line: U+FFFD at those two places, the rest intact."""
    data = GERMAN.encode() + b"Gr\xfc\xdfe aus M\xc3\xbcnchen\n"
    defects: list[str] = []
    assert decode_part(data, "UTF-8", defects) == GERMAN + "Gr\ufffd\ufffde aus München\n"
    assert defects == []


def test_decode_part_utf8_label_on_windows_1251_text_is_overruled() -> None:
    """Text declared UTF-8 that holds no valid UTF-8 at all is detected (here windows-1251) and reported."""
    defects: list[str] = []
    assert decode_part(RUSSIAN.encode("cp1251"), "utf-8", defects) == RUSSIAN
    assert defects == ["declared charset 'utf-8' does not fit the bytes; detected from the bytes"]


def test_decode_part_latin1_label_on_utf8_bytes_is_overruled() -> None:
    """Valid UTF-8 under an ISO-8859-1 label is read as UTF-8, and reported."""
    defects: list[str] = []
    assert decode_part(GERMAN.encode(), "iso-8859-1", defects) == GERMAN
    assert defects == ["declared charset 'iso-8859-1' but the bytes are UTF-8; decoded as UTF-8"]


def test_decode_part_declared_latin1_reads_as_windows_1252() -> None:
    """ISO-8859-1 is read as windows-1252 (curly quotes), its five undefined bytes as C1 controls."""
    assert decode_part(b"\x93quoted\x94 \x81", "iso-8859-1") == "“quoted” \x81"


def test_decode_part_declared_multibyte_with_one_bad_byte_keeps_the_label() -> None:
    """A Shift_JIS part with one broken byte stays Shift_JIS, with U+FFFD for that byte."""
    data = "お世話になっております。会議は木曜日です。".encode("shift_jis") + b"\x82"  # a lead byte cut off
    assert decode_part(data, "shift_jis") == "お世話になっております。会議は木曜日です。\ufffd"


def test_decode_part_undeclared_utf8() -> None:
    """Undeclared valid UTF-8 is UTF-8."""
    assert decode_part(GERMAN.encode(), None) == GERMAN


@pytest.mark.parametrize(("text", "codec"), [
    (GERMAN, "cp1252"), (RUSSIAN, "cp1251"), (RUSSIAN, "koi8_r"),
    ("Dzień dobry,\ndziękuję za wiadomość. Spotkanie odbędzie się w czwartek o dziesiątej.\n", "cp1250"),
    ("Καλημέρα Γιώργο,\nευχαριστώ για το μήνυμα. Η συνάντηση θα γίνει την Πέμπτη.\n", "iso8859_7"),
    ("山田様\nお世話になっております。会議は木曜日の午前十時からに変更になりました。\n", "cp932"),
    ("王先生，您好！\n感谢您的来信。会议改到星期四上午十点举行。\n", "gb18030"),
    ("Hej Åsa,\nTack för ditt mejl. Vi ses på mötet i morgon, jag tar med kaffe.\n", "cp1252"),
])
def test_decode_part_undeclared_legacy_text_is_detected(text: str, codec: str) -> None:
    """Undeclared legacy text is decoded with the charset the detector finds (Western ties go to windows-1252)."""
    assert decode_part(text.encode(codec), None) == text


def test_decode_part_undeclared_mixed_utf8_and_legacy_lines() -> None:
    """Undeclared UTF-8 with a Latin-1 line: UTF-8 stays UTF-8 and only the Latin-1 line is read as legacy."""
    assert decode_part("Müller & Söhne\n".encode() + b"Ger\xe4tebau Kr\xe4mer\n", None) == \
        "Müller & Söhne\nGerätebau Krämer\n"


def test_decode_part_unknown_label_is_detected_and_reported() -> None:
    """An unknown label is treated as missing and reported."""
    defects: list[str] = []
    assert decode_part(RUSSIAN.encode("cp1251"), "x-cyrillic-ish", defects) == RUSSIAN
    assert defects == ["unknown charset 'x-cyrillic-ish'; detected from the bytes"]


def test_decode_part_html_meta_charset_counts_when_mime_declares_none() -> None:
    """An HTML part without a MIME charset is read with its <meta charset>."""
    html = '<html><head><meta charset="windows-1251"></head><body>Привет</body></html>'
    assert decode_part(html.encode("cp1251"), None, html=True) == html


def test_detect_legacy_answers_a_mail_charset() -> None:
    """The detector answers one of the mail charsets, windows-1252 when it has nothing to go on."""
    assert detect_legacy(b"") == "cp1252"
    assert detect_legacy(RUSSIAN.encode("koi8_r")) == codecs.lookup("koi8_r").name
    assert {codecs.lookup(name).name for name in MAIL_CHARSETS} >= {detect_legacy(GERMAN.encode("cp1252"))}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([None, "utf-8", "iso-8859-1", "shift_jis", "utf-16", "hex", "x-bad",
                                                 "iso-2022-jp", "us-ascii"]))
def test_decode_part_never_raises(data: bytes, charset: str | None) -> None:
    """Any bytes under any label decode to a str without raising."""
    assert isinstance(decode_part(data, charset, [], html=True), str)
