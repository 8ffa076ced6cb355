"""mailgun_mock.mail.parse: raw message -> headers, addresses, bodies, stripped fields and attachments."""

from __future__ import annotations

import base64
import pathlib
import random
import re
from email.message import EmailMessage, Message

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgun_mock.mail.compose import build_message
from mailgun_mock.mail.headers import unfold
from mailgun_mock.mail.parse import Attachment, ParsedMessage, _PartInfo, _split_multipart

FIXTURES = sorted((pathlib.Path(__file__).resolve().parent.parent / "fixtures").glob("*.eml"))
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ZIP = b"PK\x05\x06" + b"\x00" * 18


def parse(raw: bytes | str) -> ParsedMessage:
    """Parse literal test mail, accepting str for readability (LF line endings are fine)."""
    return ParsedMessage(raw.encode("utf-8") if isinstance(raw, str) else raw)


def multipart(*parts: str, subtype: str = "mixed", boundary: str = "XYZ") -> str:
    """A multipart message made of literal parts (each "headers\\n\\nbody")."""
    body = "".join(f"--{boundary}\n{part}\n" for part in parts)
    return (f"From: a@example.com\nTo: b@example.com\nSubject: t\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n{body}--{boundary}--\n')


def touch_everything(msg: ParsedMessage) -> None:
    """Read every property and helper, checking the types the contract promises."""
    assert all(isinstance(n, str) and isinstance(v, str) for n, v in msg.headers)
    assert isinstance(msg.header_values("received"), list) and isinstance(msg.header("subject"), str)
    assert isinstance(msg.subject + msg.from_ + msg.message_id, str)
    assert all("@" in a for a in msg.addresses("To", "Cc", "Bcc", "From", "Reply-To"))
    for text in (msg.body_plain, msg.body_html, msg.stripped_text, msg.stripped_signature, msg.stripped_html):
        assert isinstance(text, str)
    for i, att in enumerate(msg.attachments):
        assert att.index == i and att.size == len(att.content) and att.filename
        assert att.disposition in ("attachment", "inline") and "/" in att.content_type
    assert all(att.content_id == cid for cid, att in msg.content_id_map.items())
    assert all(isinstance(d, str) for d in msg.defects)
    assert msg.size == len(msg.raw)


# --- headers -------------------------------------------------------------------------------------

def test_headers_keep_order_repeats_and_casing() -> None:
    """headers lists every header in order, repeats kept, names as written, values decoded."""
    msg = parse("Received: one\nX-Custom-HEADER: a\nReceived: two\n\t continued\n"
                "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n\nbody")
    assert msg.headers == [("Received", "one"), ("X-Custom-HEADER", "a"), ("Received", "two\t continued"),
                           ("Subject", "Grüße")]


def test_header_values_is_case_insensitive_and_ordered() -> None:
    """header_values finds every occurrence whatever the case of the name; [] when absent."""
    msg = parse("Received: one\nreceived: two\nSubject: s\n\n")
    assert msg.header_values("RECEIVED") == ["one", "two"]
    assert msg.header_values("X-Missing") == []


def test_header_returns_first_value_or_default() -> None:
    """header gives the first occurrence, or the default when the header is absent."""
    msg = parse("Subject: first\nSubject: second\n\n")
    assert msg.header("subject") == "first"
    assert msg.header("X-None", "dflt") == "dflt"


def test_headers_raw_utf8_value_decodes() -> None:
    """An unencoded UTF-8 header value (SMTPUTF8 style) decodes as UTF-8."""
    assert parse("Subject: Einträge übersprungen\n\n").subject == "Einträge übersprungen"


def test_headers_raw_latin1_value_decodes() -> None:
    """An unencoded Latin-1 header value that is not UTF-8 falls back to cp1252."""
    assert ParsedMessage(b"Subject: caf\xe9\n\n").subject == "café"


def test_subject_from_and_message_id_properties() -> None:
    """subject, from_ and message_id give the decoded headers, brackets kept on the id."""
    msg = parse("From: =?utf-8?q?Jos=C3=A9?= <jose@example.com>\nSubject: Hi\nMessage-ID: <abc@example.com>\n\n")
    assert (msg.from_, msg.subject, msg.message_id) == ("José <jose@example.com>", "Hi", "<abc@example.com>")


def test_parsed_message_constructor_parses_nothing() -> None:
    """Constructing a ParsedMessage computes no field at all."""
    msg = ParsedMessage(b"Subject: x\n\nbody")
    assert set(vars(msg)) == {"raw", "size"} and msg.size == 16


def test_parsed_message_header_access_does_not_parse_body() -> None:
    """Reading headers, subject and addresses never walks the MIME body."""
    msg = parse(multipart("Content-Type: text/plain\n\nhello"))
    assert (msg.subject, msg.addresses("To"), msg.header_values("from")) == ("t", ["b@example.com"], ["a@example.com"])
    assert "_body" not in vars(msg)
    assert msg.body_plain == "hello" and "_body" in vars(msg)


# --- addresses -----------------------------------------------------------------------------------

def test_addresses_display_names_with_commas_and_encoded_words() -> None:
    """Quoted display names with commas and encoded names with an encoded comma do not split addresses."""
    msg = parse('To: "Smith, Jane" <jane@example.com>, =?utf-8?q?M=C3=BCller=2C_J?= <jm@example.com>\n\n')
    assert msg.addresses("To") == ["jane@example.com", "jm@example.com"]


def test_addresses_groups_comments_and_bare_addresses() -> None:
    """Group syntax, comments and bare addr-specs all yield the addresses only."""
    msg = parse("To: Team: a@example.com, b@example.com;, c@example.com (Carl), undisclosed-recipients:;\n\n")
    assert msg.addresses("To") == ["a@example.com", "b@example.com", "c@example.com"]


def test_addresses_deduplicates_case_insensitively_across_headers() -> None:
    """An address repeated in To and Cc with other casing appears once, first spelling kept."""
    msg = parse("To: Bob <Bob@Example.com>\nCc: bob@example.com, carol@example.com\n\n")
    assert msg.addresses("To", "Cc") == ["Bob@Example.com", "carol@example.com"]


def test_addresses_defaults_to_to_and_cc() -> None:
    """Without header names, addresses reads To then Cc (not Bcc or From)."""
    msg = parse("From: f@example.com\nTo: t@example.com\nCc: c@example.com\nBcc: b@example.com\n\n")
    assert msg.addresses() == ["t@example.com", "c@example.com"]


def test_addresses_recovers_from_unterminated_quote_and_source_route() -> None:
    """An unterminated quote and an obsolete source route still yield the address."""
    msg = parse('From: "Shop Billing <billing@shop.example>\nTo: <@relay.example:dest@example.com>,, <\n\n')
    assert msg.addresses("From") == ["billing@shop.example"]
    assert msg.addresses("To") == ["dest@example.com"]


# --- body selection ------------------------------------------------------------------------------

def test_body_alternative_selects_plain_and_html() -> None:
    """multipart/alternative yields the text part as body_plain and the HTML part as body_html."""
    msg = parse(multipart("Content-Type: text/plain\n\nplain text", "Content-Type: text/html\n\n<p>html</p>",
                          subtype="alternative"))
    assert (msg.body_plain, msg.body_html, msg.attachments) == ("plain text", "<p>html</p>", [])


def test_body_plain_synthesised_from_html_when_no_text_part() -> None:
    """An HTML-only message gets a readable body_plain rendered from the HTML."""
    msg = parse("Content-Type: text/html\n\n<p>Hello <b>Ann</b></p><p>Line&nbsp;two<br>three</p>"
                "<style>p{}</style>")
    assert msg.body_plain == "Hello Ann\n\nLine two\nthree"
    assert msg.body_html.startswith("<p>Hello")


def test_body_line_endings_are_normalised_to_lf() -> None:
    """CRLF line endings in text bodies become LF, as in Mailgun's posted fields."""
    assert ParsedMessage(b"Subject: x\r\n\r\nline one\r\nline two\r\n").body_plain == "line one\nline two\n"


def test_body_second_text_part_becomes_attachment() -> None:
    """Only the first text/plain part is the body; a later one is posted as an attachment."""
    msg = parse(multipart("Content-Type: text/plain\n\nfirst", "Content-Type: text/plain\n\nfooter"))
    assert msg.body_plain == "first"
    assert [(a.filename, a.content) for a in msg.attachments] == [("attachment-1.txt", b"footer")]


def test_body_text_part_with_filename_is_attachment() -> None:
    """A text/plain part with a filename is an attachment, not the body."""
    msg = parse(multipart("Content-Type: text/plain\n\nbody",
                          'Content-Type: text/plain\nContent-Disposition: inline; filename="notes.txt"\n\nnotes'))
    assert msg.body_plain == "body" and msg.attachments[0].filename == "notes.txt"


def test_body_not_taken_from_attached_message() -> None:
    """The text of an attached message/rfc822 never becomes the outer body."""
    inner = "From: x@example.com\nSubject: inner\n\ninner text"
    msg = parse(multipart("Content-Type: text/html\n\n<p>outer</p>", f"Content-Type: message/rfc822\n\n{inner}"))
    assert msg.body_html == "<p>outer</p>" and msg.body_plain == "outer"
    assert msg.attachments[0].content == inner.encode()


def test_body_empty_message() -> None:
    """A message with no body has empty text fields and no attachments."""
    msg = parse("Subject: nothing\n\n")
    assert (msg.body_plain, msg.body_html, msg.stripped_text, msg.attachments) == ("", "", "", [])


# --- attachments ---------------------------------------------------------------------------------

def _with_files() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "files"
    msg.set_content("see attached")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="report.pdf")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="pixel.png")
    msg.add_attachment(ZIP, maintype="application", subtype="zip", filename="logs.zip")
    return msg


def test_attachments_pdf_image_zip_bytes_and_metadata() -> None:
    """Base64 file parts decode to their exact bytes with name, type, size and index."""
    msg = ParsedMessage(_with_files().as_bytes())
    assert [(a.index, a.filename, a.content_type, a.content, a.size, a.disposition) for a in msg.attachments] == [
        (0, "report.pdf", "application/pdf", PDF, len(PDF), "attachment"),
        (1, "pixel.png", "image/png", PNG, len(PNG), "attachment"),
        (2, "logs.zip", "application/zip", ZIP, len(ZIP), "attachment"),
    ]
    assert msg.body_plain == "see attached\n" and msg.defects == []


def test_attachments_rfc2231_filename_with_continuations() -> None:
    """An RFC 2231 filename split into encoded continuations is joined and percent-decoded."""
    part = ("Content-Type: application/pdf\nContent-Disposition: attachment;\n"
            " filename*0*=UTF-8''%C3%9Cbersicht%20der%20;\n filename*1*=Quartalszahlen.pdf\n\n%PDF")
    assert parse(multipart("Content-Type: text/plain\n\nx", part)).attachments[0].filename == \
        "Übersicht der Quartalszahlen.pdf"


def test_attachments_rfc2047_filename() -> None:
    """An RFC 2047 encoded filename (Outlook/Gmail style) is decoded."""
    part = ('Content-Type: application/pdf; name="=?UTF-8?B?T2ZmZXJ0ZV9Cw7xyby5wZGY=?="\n'
            'Content-Disposition: attachment; filename="=?UTF-8?B?T2ZmZXJ0ZV9Cw7xyby5wZGY=?="\n\n%PDF')
    assert parse(multipart("Content-Type: text/plain\n\nx", part)).attachments[0].filename == "Offerte_Büro.pdf"


def test_attachments_filename_falls_back_to_content_type_name() -> None:
    """Without a disposition filename, the Content-Type name parameter names the file."""
    part = 'Content-Type: application/zip; name="logs.zip"\n\nPK'
    assert parse(multipart("Content-Type: text/plain\n\nx", part)).attachments[0].filename == "logs.zip"


def test_attachments_missing_filename_is_generated_from_type() -> None:
    """Nameless parts get a name from their position and content type."""
    msg = parse(multipart("Content-Type: text/plain\n\nx", "Content-Type: application/pdf\n\n%PDF",
                          "Content-Type: application/x-weird\n\n??", "Content-Type: message/rfc822\n\nSubject: f\n\nb"))
    assert [a.filename for a in msg.attachments] == ["attachment-1.pdf", "attachment-2.bin", "forwarded-message.eml"]


def test_attachments_message_rfc822_keeps_inner_bytes() -> None:
    """A forwarded message/rfc822 part is one attachment holding the inner message bytes exactly."""
    inner = "From: landlord@example.com\r\nSubject: Lease\r\n\r\nOffer attached.\r\n"
    raw = ("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
           "Content-Type: text/plain\r\n\r\nFYI\r\n--B\r\nContent-Type: message/rfc822\r\n"
           f'Content-Disposition: attachment; filename="lease.eml"\r\n\r\n{inner}\r\n--B--\r\n')
    [att] = parse(raw).attachments
    assert (att.filename, att.content_type, att.content) == ("lease.eml", "message/rfc822", inner.encode())


def test_attachments_text_calendar_in_alternative_is_attachment() -> None:
    """A text/calendar part inside multipart/alternative is posted as an attachment."""
    msg = parse(multipart("Content-Type: text/plain\n\ninvite", "Content-Type: text/html\n\n<p>invite</p>",
                          "Content-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR", subtype="alternative"))
    assert [(a.filename, a.content_type, a.content) for a in msg.attachments] == [
        ("attachment-1.ics", "text/calendar", b"BEGIN:VCALENDAR")]


def test_attachments_bounce_report_parts() -> None:
    """In a multipart/report bounce the human text is the body and the status/original are attachments."""
    msg = parse(multipart("Content-Type: text/plain\n\nDelivery failed.",
                          "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com",
                          "Content-Type: text/rfc822-headers\n\nSubject: original", subtype="report"))
    assert msg.body_plain == "Delivery failed."
    assert [(a.filename, a.content_type) for a in msg.attachments] == [
        ("delivery-status.txt", "message/delivery-status"), ("attachment-2.txt", "text/rfc822-headers")]


def test_attachments_inline_images_and_content_id_map() -> None:
    """Inline images in multipart/related are attachments keyed by Content-ID (brackets kept)."""
    msg = parse(multipart(
        'Content-Type: text/html\n\n<img src="cid:img1@x">',
        "Content-Type: image/png\nContent-ID: <img1@x>\nContent-Disposition: inline; filename=a.png\n"
        "Content-Transfer-Encoding: base64\n\n" + base64.b64encode(PNG).decode(),
        "Content-Type: image/gif\nContent-ID: <img2@x>\n\nGIF89a", subtype="related"))
    assert [(a.filename, a.disposition, a.content_id) for a in msg.attachments] == [
        ("a.png", "inline", "<img1@x>"), ("attachment-2.gif", "inline", "<img2@x>")]
    assert msg.content_id_map["<img1@x>"].content == PNG
    assert list(msg.content_id_map) == ["<img1@x>", "<img2@x>"]


def test_attachment_is_frozen() -> None:
    """Attachment values cannot be modified after parsing."""
    att = Attachment(index=0, filename="a", content_type="a/b", content=b"", content_id=None,
                     disposition="attachment", size=0)
    with pytest.raises(AttributeError):
        att.filename = "b"  # type: ignore[misc]


# --- charsets ------------------------------------------------------------------------------------

def test_charset_declared_iso_8859_1_transcodes() -> None:
    """A part declared ISO-8859-1 is transcoded to str."""
    assert ParsedMessage(b"Content-Type: text/plain; charset=iso-8859-1\n\nR\xe9sum\xe9").body_plain == "Résumé"


def test_charset_undeclared_8bit_utf8() -> None:
    """Undeclared 8-bit text that is valid UTF-8 is read as UTF-8."""
    assert ParsedMessage("Subject: x\n\nMüller & Söhne".encode()).body_plain == "Müller & Söhne"


def test_charset_undeclared_8bit_latin1() -> None:
    """Undeclared 8-bit text that is not UTF-8 falls back to cp1252."""
    assert ParsedMessage(b"Subject: x\n\nGer\xe4tebau \x93quoted\x94").body_plain == "Gerätebau “quoted”"


def test_charset_mixed_utf8_and_latin1_lines() -> None:
    """A UTF-8 body with one Latin-1 line keeps its UTF-8 lines intact."""
    raw = "Subject: x\n\nMüller\n".encode() + b"Kr\xe4mer\n"
    assert ParsedMessage(raw).body_plain == "Müller\nKrämer\n"


def test_charset_declared_utf8_with_a_latin1_line() -> None:
    """Text declared UTF-8 with one stray Latin-1 byte keeps its UTF-8 and gets U+FFFD for that byte only."""
    raw = "Content-Type: text/plain; charset=utf-8\n\nGrüße\n".encode() + b"Kr\xe4mer"
    assert ParsedMessage(raw).body_plain == "Grüße\nKr\ufffdmer"


def test_charset_unknown_label_falls_back_and_records_defect() -> None:
    """An unknown charset name decodes as UTF-8 and is reported in defects."""
    msg = ParsedMessage("Content-Type: text/plain; charset=x-made-up\n\nnaïve".encode())
    assert msg.body_plain == "naïve"
    assert msg.defects == ["unknown charset 'x-made-up'; detected from the bytes"]


def test_charset_quoted_printable_utf8_body() -> None:
    """A quoted-printable UTF-8 body is decoded and transcoded."""
    raw = b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 =\nok"
    assert ParsedMessage(raw).body_plain == "Café ok"


# --- malformed input -----------------------------------------------------------------------------

def test_malformed_empty_input() -> None:
    """Zero bytes parse to an empty message with no defects."""
    msg = ParsedMessage(b"")
    touch_everything(msg)
    assert (msg.headers, msg.body_plain, msg.attachments, msg.defects) == ([], "", [], [])


def test_malformed_binary_garbage_becomes_body() -> None:
    """Bytes that are no header end the header block at once and are read as body text."""
    msg = ParsedMessage(b"\x00\xff\xfe garbage \x80\n\x01")
    touch_everything(msg)
    assert msg.headers == [] and "garbage" in msg.body_plain
    assert msg.defects[0].startswith("header line without a colon ends the headers")


def test_malformed_header_line_without_colon_ends_headers() -> None:
    """A line without a colon ends the headers (as in the stdlib) and is recorded as a defect."""
    msg = parse("Subject: s\nnot a header\nX-Late: v\n\nbody")
    assert msg.headers == [("Subject", "s")]
    assert msg.body_plain == "not a header\nX-Late: v\n\nbody"


def test_malformed_thousand_headers() -> None:
    """A message with 1,000 headers keeps all of them in order."""
    msg = parse("".join(f"X-H{i}: v{i}\n" for i in range(1000)) + "\nbody")
    assert len(msg.headers) == 1000 and msg.headers[-1] == ("X-H999", "v999") and msg.body_plain == "body"


def test_malformed_multipart_without_boundary_parameter() -> None:
    """A multipart with no boundary parameter is read as a text body, with a defect."""
    msg = parse("Content-Type: multipart/mixed\n\njust text")
    assert msg.body_plain == "just text"
    assert msg.defects == ["multipart/mixed without a boundary parameter; body read as text"]


def test_malformed_unused_boundary() -> None:
    """A declared boundary that never appears leaves the body as text, with a defect."""
    msg = parse('Content-Type: multipart/alternative; boundary="never"\n\n--other\n\nhello\n--other--\n')
    assert msg.body_plain == "--other\n\nhello\n--other--\n"
    assert msg.defects == ["boundary b'never' never appears; body read as text"]


def test_malformed_missing_closing_boundary() -> None:
    """Without a closing delimiter the last part runs to the end of the message."""
    msg = parse('Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\ntruncated')
    assert msg.body_plain == "truncated" and msg.defects == ["closing boundary b'B' is missing"]


def test_malformed_bad_base64_is_decoded_best_effort() -> None:
    """Base64 with junk characters and missing padding still yields the decodable bytes."""
    msg = parse(multipart("Content-Type: text/plain\n\nx",
                          "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBER!!i0xLjQ"))
    assert msg.attachments[0].content == b"%PDF-1.4"
    assert msg.defects == ["invalid base64 in a application/pdf part; decoded best-effort"]


def test_malformed_deep_nesting_stops_recursing() -> None:
    """Pathologically deep multipart nesting is cut off instead of recursing without bound."""
    raw = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(200)) + "\ndeep\n"
    msg = parse(raw)
    touch_everything(msg)
    assert "multipart nesting deeper than 32; kept whole as an attachment" in msg.defects
    assert msg.attachments[0].content_type == "multipart/mixed"


def test_malformed_first_line_continuation_is_skipped() -> None:
    """A continuation line before any header is ignored and recorded."""
    msg = parse(" stray\nSubject: s\n\n")
    assert msg.subject == "s" and msg.defects == ["the first header line is a continuation line; ignored"]


def test_malformed_mbox_from_line_is_not_a_header() -> None:
    """A leading mbox "From " envelope line is skipped without a defect."""
    msg = parse("From bob@example.com Mon Jan  6 10:15:00 2025\nSubject: s\n\nbody")
    assert msg.headers == [("Subject", "s")] and msg.defects == []


# --- stripping through ParsedMessage -------------------------------------------------------------

def test_stripped_fields_for_a_gmail_reply() -> None:
    """A Gmail reply yields stripped text, the sign-off as signature, and HTML without the gmail_quote."""
    text = "Sounds good.\n\nThanks,\nBob\n\nOn Mon, Jan 6, 2025 at 10:15 AM Alice <a@example.com> wrote:\n> Lunch?\n"
    html = ('<div dir="ltr">Sounds good.</div><div class="gmail_quote"><div class="gmail_attr">On Mon, Alice '
            'wrote:<br></div><blockquote class="gmail_quote">Lunch?</blockquote></div>')
    msg = parse(multipart(f"Content-Type: text/plain\n\n{text}", f"Content-Type: text/html\n\n{html}",
                          subtype="alternative"))
    assert (msg.stripped_text, msg.stripped_signature) == ("Sounds good.", "Thanks,\nBob")
    assert msg.stripped_html == '<div dir="ltr">Sounds good.</div>'


# --- robustness ----------------------------------------------------------------------------------

SEEDS = [
    _with_files().as_bytes(),
    build_message(from_="a@example.com", to=["b@example.com"], text="Hi\n\n> quoted", html="<blockquote>q</blockquote>",
                  attachments=[("a.pdf", PDF, "application/pdf")], inline=[("i.png", PNG, "image/png")]),
    multipart("Content-Type: text/plain; charset=iso-2022-jp\n\nx", "Content-Type: message/rfc822\n\nSubject: y\n\nz",
              subtype="report").encode(),
    *(path.read_bytes() for path in FIXTURES),
]


def mutate(data: bytes, seed: int) -> bytes:
    """Damage a message: delete, duplicate, overwrite or insert random slices of bytes."""
    rng = random.Random(seed)
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(buf) + 1)
        j = min(len(buf), i + rng.randint(0, 64))
        op = rng.randrange(4)
        if op == 0:
            del buf[i:j]
        elif op == 1:
            buf[i:i] = buf[i:j]
        elif op == 2:
            buf[i:j] = bytes(rng.randrange(256) for _ in range(j - i))
        else:
            buf[i:i] = rng.choice([b"\n", b"\r\n", b"--", b"=?utf-8?B?", b":", b"\n\n", b"<blockquote>", b"\xff"])
    return bytes(buf)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_parsed_message_random_bytes_never_raise(data: bytes) -> None:
    """Any bytes at all parse without an exception from any property."""
    touch_everything(ParsedMessage(data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.integers(0, 2**32))
def test_parsed_message_mutated_real_messages_never_raise(seed_message: bytes, seed: int) -> None:
    """Real messages with random damage parse without an exception from any property."""
    touch_everything(ParsedMessage(mutate(seed_message, seed)))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_every_property_computes(path: pathlib.Path) -> None:
    """Every fixture parses: all properties compute and attachment sizes equal their content length."""
    msg = ParsedMessage(path.read_bytes())
    touch_everything(msg)
    assert msg.headers and all(att.size == len(att.content) for att in msg.attachments)


def test_address_headers_keep_decoded_names_quoted() -> None:
    """An encoded display name holding a comma is quoted after decoding, so the list parses to the same addresses."""
    import email.utils

    raw = (b"From: =?utf-8?q?M=C3=BCller,_J=C3=BCrgen?= <j@example.com>\r\n"
           b"To: =?utf-8?q?Bob_=22the=22_B?= <b@example.com>, \"=?utf-8?q?Doe,_J?=\" <d@example.com>\r\n"
           b"Subject: =?utf-8?q?a,_b?=\r\n\r\nx")
    msg = ParsedMessage(raw)
    assert msg.from_ == '"Müller, Jürgen" <j@example.com>'
    assert email.utils.getaddresses([msg.header("To")]) == [('Bob "the" B', "b@example.com"), ("Doe, J", "d@example.com")]
    assert msg.subject == "a, b"  # not an address header: no quoting



# --- the parameter fast path against email.message.Message ----------------------------------------

_PARAM_PIECES = st.sampled_from([
    "text/plain", "multipart/mixed", "application/pdf", "attachment", "inline", "filename", "name", "boundary",
    "charset", ";", "; ", " ", "\t", "=", '"', "\\", "<", ">", "*", "*0", "*1*", "utf-8''%C3%A9", "a b", "x.pdf",
    "UTF-8", "----=_Part_1", "é", "\r\n ", "'", "Name", "FILENAME",
])
_HEADER_VALUES = st.one_of(st.none(), st.lists(_PARAM_PIECES, max_size=16).map("".join), st.text(max_size=40))


def _outcome(read: object) -> object:
    """A call's result, or its exception type, so that raising is compared too."""
    try:
        return read() if callable(read) else read
    except Exception as exc:  # noqa: BLE001 - compared, not swallowed
        return type(exc)


@settings(max_examples=500)
@given(_HEADER_VALUES, _HEADER_VALUES, st.sampled_from(["text/plain", "message/rfc822"]))
def test_part_info_matches_email_message(ct: str | None, cd: str | None, default: str) -> None:
    """_PartInfo answers exactly as a stdlib Message holding the same two headers, simple lists or not."""
    headers = [(n, v) for n, v in (("Content-Type", ct), ("Content-Disposition", cd)) if v is not None]
    info = _PartInfo(headers, default)
    reference = Message()
    reference.set_default_type(default)
    for name, value in headers:
        reference[name] = unfold(value)
    assert info.content_type() == reference.get_content_type()
    assert info.disposition() == str(reference.get("content-disposition", "")).split(";")[0].strip().lower()
    assert _outcome(info.boundary) == _outcome(reference.get_boundary)
    assert _outcome(info.filename) == _outcome(reference.get_filename)
    assert _outcome(info.charset) == _outcome(reference.get_content_charset)


def test_part_info_uses_the_first_of_repeated_headers() -> None:
    """Only the first Content-Type and Content-Disposition count, whatever their casing."""
    info = _PartInfo([("content-TYPE", "text/html; charset=latin1"), ("Content-Type", "text/plain; charset=x"),
                      ("Content-Disposition", "inline; filename=a.txt"), ("CONTENT-DISPOSITION", "attachment")],
                     "text/plain")
    assert (info.content_type(), info.charset(), info.disposition(), info.filename()) == (
        "text/html", "latin1", "inline", "a.txt")



def reference_split_multipart(data: bytes, boundary: bytes, defects: list[str]) -> list[bytes] | None:
    """The original regex-scanning _split_multipart: the bytes.find version must agree with it."""
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


@settings(max_examples=500)
@given(st.lists(st.sampled_from([b"--b", b"--", b"b", b"\n", b"\r\n", b"\r", b" ", b"\t", b"x", b"--b--", b"\n--b\n",
                                 b"-", b"bb", b"\n--b--\r\n"]), max_size=30).map(b"".join),
       st.sampled_from([b"b", b"bb", b"-", b"b\nb", b"b--", b"?*"]))
def test_split_multipart_matches_regex_reference(data: bytes, boundary: bytes) -> None:
    """Scanning with bytes.find cuts the same parts and reports the same defects as the multiline regex."""
    ours: list[str] = []
    theirs: list[str] = []
    assert _split_multipart(data, boundary, ours) == reference_split_multipart(data, boundary, theirs)
    assert ours == theirs
