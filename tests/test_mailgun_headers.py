"""mailgun_mock.sending.mailgun_headers and the MIME edits it feeds: X-Mailgun-* headers read as options."""

from __future__ import annotations

import pytest

from mailgun_mock.base.errors import BadRequest
from mailgun_mock.mail.edit import replace_body, rewrite_copy, text_body
from mailgun_mock.mail.headers import drop_fields
from mailgun_mock.mail.parse import ParsedMessage
from mailgun_mock.sending.mailgun_headers import HEADERS, REMOVED, read_mailgun_headers

BODY = b"Content-Type: text/plain\r\n\r\nHello\r\n.\r\n"


def message(*headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in ("From: Bob <bob@example.com>", "To: ann@example.net", *headers))
    return head.encode() + b"Subject: Hi\r\n" + BODY


def test_read_mailgun_headers_maps_each_header_to_its_form_field() -> None:
    """Every steering header becomes its /messages field, a repeated X-Mailgun-Tag repeated fields, in order."""
    found = read_mailgun_headers(message(
        "X-Mailgun-Tag: welcome", "x-mailgun-tag: onboarding", "X-Mailgun-Track: htmlonly",
        "X-Mailgun-Track-Clicks: no", "X-Mailgun-Track-Opens: Yes", "X-Mailgun-Deliver-By: Mon, 06 Jan 2025 10:15:00 +0000",
        "X-Mailgun-Drop-Message: yes", "X-Mailgun-Require-TLS: true", "X-Mailgun-Skip-Verification: false",
        "X-Mailgun-Sending-Ip: 192.0.2.10", "X-Mailgun-Recipient-Variables: {\"a@x.org\": {\"n\": 1}}",
        "X-Mailgun-Template-Name: welcome", "X-Mailgun-Template-Version: v2",
        "X-Mailgun-Template-Variables: {\"name\": \"Ann\"}"))
    assert list(found.fields) == [
        ("o:tag", "welcome"), ("o:tag", "onboarding"), ("o:tracking", "htmlonly"), ("o:tracking-clicks", "no"),
        ("o:tracking-opens", "yes"), ("o:deliverytime", "Mon, 06 Jan 2025 10:15:00 +0000"), ("o:testmode", "yes"),
        ("o:require-tls", "true"), ("o:skip-verification", "false"), ("o:sending-ip", "192.0.2.10"),
        ("recipient-variables", '{"a@x.org": {"n": 1}}'), ("template", "welcome"), ("t:version", "v2"),
        ("t:variables", '{"name": "Ann"}')]


def test_read_mailgun_headers_removes_steering_headers_and_keeps_the_rest_byte_for_byte() -> None:
    """The copy loses the steering headers (folded lines too) and keeps tags, variables, template name, the body."""
    raw = message("X-Mailgun-Tag: t1", "X-Mailgun-Track: no", "X-Mailgun-Recipient-Variables: {\"a@x.org\":",
                  " {\"n\": 1}}", "X-Mailgun-Variables: {\"k\": \"v\"}", "X-Other: kept",
                  "X-Mailgun-Template-Name: welcome", "X-Mailgun-Template-Version: v2")
    out = read_mailgun_headers(raw).raw
    assert out == raw.replace(b"X-Mailgun-Track: no\r\n", b"").replace(
        b"X-Mailgun-Recipient-Variables: {\"a@x.org\":\r\n {\"n\": 1}}\r\n", b"").replace(
        b"X-Mailgun-Template-Version: v2\r\n", b"")
    assert out.endswith(BODY)


def test_read_mailgun_headers_leaves_a_message_without_them_untouched() -> None:
    """A message with no X-Mailgun-* header is the same object back, and no options."""
    raw = message("X-Other: 1")
    found = read_mailgun_headers(raw)
    assert found.raw is raw and found.fields == ()


@pytest.mark.parametrize(("header", "problem"), [
    ("X-Mailgun-Track: maybe", "'X-Mailgun-Track' header value 'maybe' is not valid: use yes, no, true, false or htmlonly"),
    ("X-Mailgun-Track-Opens: htmlonly", "'X-Mailgun-Track-Opens' header value 'htmlonly' is not valid: use yes, no, true or false"),
    ("X-Mailgun-Drop-Message: please", "'X-Mailgun-Drop-Message' header value 'please' is not valid: use yes, no, true or false"),
    ("X-Mailgun-Variables: [1, 2]", "'X-Mailgun-Variables' header is not a valid JSON object"),
    ("X-Mailgun-Recipient-Variables: {oops", "'X-Mailgun-Recipient-Variables' header is not a valid JSON object"),
    ("X-Mailgun-Template-Variables: 7", "'X-Mailgun-Template-Variables' header is not a valid JSON object"),
    ("X-Mailgun-Sending-Ip: 999.1.1.1", "'X-Mailgun-Sending-Ip' header value '999.1.1.1' is not an IP address"),
    ("X-Mailgun-Template-Name:  ", "'X-Mailgun-Template-Name' header is empty"),
])
def test_read_mailgun_headers_refuses_invalid_values(header: str, problem: str) -> None:
    """An invalid value is refused with a message naming the header, never accepted silently."""
    with pytest.raises(BadRequest) as caught:
        read_mailgun_headers(message(header))
    assert caught.value.message == problem


def test_read_mailgun_headers_decodes_encoded_words() -> None:
    """An RFC 2047 encoded tag is read decoded."""
    found = read_mailgun_headers(message("X-Mailgun-Tag: =?utf-8?q?gr=C3=BC=C3=9Fe?="))
    assert found.fields == (("o:tag", "grüße"),)


def test_headers_table_removes_only_steering_headers() -> None:
    """The delivered copy keeps tag, variables, template name and variables; every other known header goes."""
    kept = {name for name in HEADERS if name.lower() not in REMOVED}
    assert kept == {"X-Mailgun-Tag", "X-Mailgun-Variables", "X-Mailgun-Template-Name", "X-Mailgun-Template-Variables"}


def test_drop_fields_ignores_the_body_and_mbox_line() -> None:
    """A header-like line in the body and an mbox From_ line are not header fields to drop."""
    raw = b"From bob@example.com Mon Jan  6 10:15:00 2025\nX-Drop: 1\nSubject: s\n\nX-Drop: body line\n"
    assert drop_fields(raw, ["x-drop"]) == b"From bob@example.com Mon Jan  6 10:15:00 2025\nSubject: s\n\nX-Drop: body line\n"


def test_rewrite_copy_fills_placeholders_and_shows_one_recipient() -> None:
    """One batch copy: To replaced, placeholders filled in headers and text parts, attachments untouched."""
    raw = (b"From: b@example.com\r\nTo: a@x.org, c@x.org\r\nSubject: Hi %name%\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\nDear %name%, gr=C3=BC=C3=9Fe\r\n--XX\r\n"
           b"Content-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n%name%\r\n"
           b"--XX--\r\n")
    out = ParsedMessage(rewrite_copy(raw, to="Ann <a@x.org>", substitute=lambda t: t.replace("%name%", "Ann")))
    assert (out.header("To"), out.subject) == ("Ann <a@x.org>", "Hi Ann")
    assert out.body_plain.strip() == "Dear Ann, grüße"
    assert [a.content for a in out.attachments] == [b"%name%"]


def test_replace_body_keeps_headers_and_attachments() -> None:
    """A new HTML body beside the old text part, the attachment after it, headers set or removed."""
    raw = (b"From: b@example.com\r\nTo: a@x.org\r\nSubject: Hi\r\nX-Keep: yes\r\nX-Gone: 1\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nold text\r\n"
           b"--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n"
           b"--XX--\r\n")
    assert text_body(raw) == "old text"
    out = ParsedMessage(replace_body(raw, html="<p>new</p>", text=text_body(raw),
                                     headers=[("X-Gone", None), ("X-New", "1")]))
    assert (out.body_plain.strip(), out.body_html.strip()) == ("old text", "<p>new</p>")
    assert [a.filename for a in out.attachments] == ["a.pdf"]
    assert (out.header("X-Keep"), out.header("X-Gone"), out.header("X-New")) == ("yes", "", "1")
    assert not out.defects
