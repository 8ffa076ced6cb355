"""mailgun_mock.mail.compose: build_message, checked by parsing its output back with ParsedMessage."""

from __future__ import annotations

import base64
from email import policy
from email.message import MIMEPart
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailgun_mock.mail.compose import build_message
from mailgun_mock.mail.parse import ParsedMessage

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ZIP = b"PK\x05\x06" + b"\x00" * 18


def test_build_message_round_trip() -> None:
    """A built message parses back to the same headers, bodies, attachment bytes and inline cid."""
    raw = build_message(from_="Bøb <bob@example.com>", to=["Ann <ann@example.com>", "cy@example.com"],
                        cc=["dee@example.com"], subject="Grüße 🎉", text="Hi Ann",
                        html='<p>Hi <img src="cid:a.png"></p>', inline=[("a.png", PNG, "image/png")],
                        attachments=[("report.pdf", PDF, "application/pdf"),
                                     ("Übersicht.zip", ZIP, "application/zip")],
                        headers=[("X-Mailgun-Tag", "t1")])
    msg = ParsedMessage(raw)
    assert (msg.from_, msg.subject, msg.header("X-Mailgun-Tag")) == ("Bøb <bob@example.com>", "Grüße 🎉", "t1")
    assert msg.addresses("To", "Cc") == ["ann@example.com", "cy@example.com", "dee@example.com"]
    assert (msg.body_plain, msg.body_html) == ("Hi Ann\n", '<p>Hi <img src="cid:a.png"></p>\n')
    assert [(a.filename, a.content, a.content_type, a.disposition) for a in msg.attachments] == [
        ("a.png", PNG, "image/png", "inline"), ("report.pdf", PDF, "application/pdf", "attachment"),
        ("Übersicht.zip", ZIP, "application/zip", "attachment")]
    assert msg.content_id_map["<a.png>"].content == PNG and msg.defects == []
    assert raw.isascii() and b"\r\n" in raw


def test_build_message_adds_date_and_message_id() -> None:
    """Date and Message-Id are added when absent, the id on the sender's domain."""
    msg = ParsedMessage(build_message(from_="a@mg.example.com", to=["b@example.com"], text="x"))
    assert msg.header("Date").endswith("+0000")
    assert msg.message_id.startswith("<") and msg.message_id.endswith("@mg.example.com>")


def test_build_message_keeps_given_date_and_message_id() -> None:
    """Date and Message-Id passed in headers are used instead of generated ones."""
    msg = ParsedMessage(build_message(from_="a@example.com", to=["b@example.com"], text="x", headers=[
        ("Date", "Mon, 06 Jan 2025 10:15:00 +0000"), ("Message-Id", "<fixed@example.com>")]))
    assert msg.header_values("Date") == ["Mon, 06 Jan 2025 10:15:00 +0000"]
    assert msg.header_values("message-id") == ["<fixed@example.com>"]


def test_build_message_html_only_and_structure() -> None:
    """An HTML-only message is a single text/html part; body_plain is synthesised."""
    msg = ParsedMessage(build_message(from_="a@example.com", to=["b@example.com"], html="<p>Only <i>html</i></p>"))
    assert msg.header("Content-Type").startswith("text/html")
    assert (msg.body_html, msg.body_plain) == ("<p>Only <i>html</i></p>\n", "Only html")


def test_build_message_text_and_html_is_alternative() -> None:
    """text plus html without files makes a multipart/alternative message."""
    msg = ParsedMessage(build_message(from_="a@example.com", to=["b@example.com"], text="t", html="<b>h</b>"))
    assert msg.header("Content-Type").startswith("multipart/alternative")


def test_build_message_message_rfc822_attachment_is_not_base64() -> None:
    """A message/rfc822 attachment is embedded as-is (RFC 2046 forbids base64 there) and reads back."""
    inner = b"From: x@example.com\r\nSubject: fwd\r\n\r\nbody\r\n"
    raw = build_message(from_="a@example.com", to=["b@example.com"], text="t",
                        attachments=[("fwd.eml", inner, "message/rfc822")])
    assert b"Subject: fwd" in raw
    assert ParsedMessage(raw).attachments[0].content == inner


def test_build_message_neutralises_header_line_breaks() -> None:
    """A line break in a header value cannot inject a second header."""
    msg = ParsedMessage(build_message(from_="a@example.com", to=["b@example.com"], subject="hi\r\nBcc: x@evil.test",
                                      text="t"))
    assert msg.header_values("Bcc") == [] and msg.subject == "hi Bcc: x@evil.test"


def test_build_message_rejects_invalid_header_name() -> None:
    """A header name with a space (or colon, or non-ASCII) raises ValueError instead of corrupting the message."""
    with pytest.raises(ValueError, match="invalid header name 'Bad Name'"):
        build_message(from_="a@example.com", to=["b@example.com"], text="t", headers=[("Bad Name", "v")])


def test_build_message_non_ascii_address_uses_smtputf8() -> None:
    """An internationalised address is written as raw UTF-8 (SMTPUTF8) and parses back."""
    msg = ParsedMessage(build_message(from_="José <jose@exämple.com>", to=["zoë@exämple.com"], text="t"))
    assert (msg.from_, msg.addresses("To")) == ("José <jose@exämple.com>", ["zoë@exämple.com"])


def test_build_message_odd_display_name_is_requoted() -> None:
    """A display name the stdlib cannot parse ("." ) is written quoted rather than raising."""
    msg = ParsedMessage(build_message(from_=". <a@example.com>", to=["", "b@example.com"], text="t"))
    assert msg.addresses("From", "To") == ["a@example.com", "b@example.com"] and msg.defects == []


def test_build_message_attachment_type_parameters_and_line_breaks() -> None:
    """Content-type parameters are ignored and a line break in a filename cannot break the MIME structure."""
    msg = ParsedMessage(build_message(from_="a@example.com", to=["b@example.com"], text="t",
                                      attachments=[("notes\r\n.txt", b"hi", "text/plain; charset=utf-8")]))
    assert [(a.filename, a.content_type, a.content) for a in msg.attachments] == [
        ("notes  .txt", "text/plain", b"hi")]
    assert msg.defects == []


HEADER_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"),
                      max_size=80)
FILE_NAME = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_ ."), min_size=1,
                    max_size=30).map(str.strip).filter(bool)


@settings(max_examples=150, deadline=None)
@given(subject=HEADER_TEXT, text=st.lists(HEADER_TEXT, max_size=4).map("\n".join), html=HEADER_TEXT,
       files=st.lists(st.tuples(FILE_NAME, st.binary(max_size=200)), max_size=3), name=FILE_NAME)
def test_build_message_round_trips_any_text(subject: str, text: str, html: str,
                                            files: list[tuple[str, bytes]], name: str) -> None:
    """Any printable subject, display name, bodies and file names/bytes come back from the parser unchanged."""
    raw = build_message(from_=f"{name} <a@example.com>", to=["b@example.com"], subject=subject, text=text, html=html,
                        attachments=[(n, c, "application/octet-stream") for n, c in files])
    msg = ParsedMessage(raw)
    assert msg.subject in (subject.strip(), " ".join(subject.split()))
    assert (msg.body_plain.rstrip("\n"), msg.body_html.rstrip("\n")) == (text.rstrip("\n"), html.rstrip("\n"))
    assert [(a.filename, a.content) for a in msg.attachments] == files and msg.defects == []


@settings(max_examples=150, deadline=None)
@given(from_=st.text(max_size=40), to=st.lists(st.text(max_size=30), max_size=3), subject=st.text(max_size=40),
       value=st.text(max_size=40), filename=st.text(max_size=20), content_type=st.text(max_size=20))
def test_build_message_junk_input_never_breaks_structure(from_: str, to: list[str], subject: str, value: str,
                                                         filename: str, content_type: str) -> None:
    """Arbitrary strings in every field give a message that parses without defects, or the documented
    ValueError for an address header that cannot be written at all (never a malformed message)."""
    try:
        raw = build_message(from_=from_, to=to, subject=subject, text="t", headers=[("X-V", value)],
                            attachments=[(filename, b"1", content_type)])
    except ValueError as exc:
        assert str(exc).startswith("cannot write a ")
        return
    msg = ParsedMessage(raw)
    assert [a.content for a in msg.attachments] == [b"1"] and msg.defects == []


def _structure(raw: bytes) -> list[str]:
    """The content types of a message's parts, depth-first, indented by nesting."""

    def walk(part: MIMEPart, depth: int) -> list[str]:
        return ["  " * depth + part.get_content_type(), *(line for c in part.iter_parts() for line in walk(c, depth + 1))]

    return walk(BytesParser(policy=policy.default).parsebytes(raw), 0)


def test_build_message_amp_html_sits_between_text_and_html() -> None:
    """amp_html adds a text/x-amp-html alternative after text/plain and before text/html, attachments kept."""
    raw = build_message(from_="a@example.com", to=["b@example.com"], text="t", html="<b>h</b>",
                        amp_html="<html amp4email>a</html>", attachments=[("a.pdf", PDF, "application/pdf")])
    assert _structure(raw) == ["multipart/mixed", "  multipart/alternative", "    text/plain", "    text/x-amp-html",
                               "    text/html", "  application/pdf"]
    assert b"<html amp4email>a</html>" in raw
    assert [a.content for a in ParsedMessage(raw).attachments if a.filename == "a.pdf"] == [PDF]


def test_build_message_amp_html_alone_follows_an_empty_text_part() -> None:
    """With only amp_html, the message is an empty text/plain part and the AMP alternative."""
    raw = build_message(from_="a@example.com", to=["b@example.com"], amp_html="<b>amp only</b>")
    assert _structure(raw) == ["multipart/alternative", "  text/plain", "  text/x-amp-html"]
    assert ParsedMessage(raw).body_plain.strip() == "" and b"<b>amp only</b>" in raw
