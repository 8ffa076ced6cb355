"""mailgun_mock.sending.form: /messages and /messages.mime validation, and the MIME built for delivery."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from mailgun_mock.base.errors import BadRequest, PayloadTooLarge
from mailgun_mock.mail.parse import ParsedMessage
from mailgun_mock.sending.build import build_messages, message_id
from mailgun_mock.sending.form import MAX_TAGS, SendRequest, mime_content_type_error, parse_send, parse_send_mime

DOMAIN = "mg.example.com"
NOW = 1736158500.0  # Mon, 06 Jan 2025 10:15:00 UTC
MID = "<20250106101500.0123456789abcdef@mg.example.com>"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
BASE: dict[str, Any] = {"from": "Bob <bob@mg.example.com>", "to": "ann@example.com", "subject": "Hi", "text": "Hello"}


def send(files: list[tuple[str, str, bytes, str]] | None = None, max_size: int = 10_000_000,
         **fields: Any) -> SendRequest:
    """parse_send over BASE updated with ``fields`` (``h_Reply_To`` spells ``h:Reply-To``; None removes a field)."""
    params = dict(BASE)
    for key, value in fields.items():
        if key[:2] == "v_":
            key = "v:" + key[2:]
        elif key[:2] in ("o_", "h_", "t_"):
            key = key[0] + ":" + key[2:].replace("_", "-")
        else:
            key = key.replace("_", "-")
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return parse_send(DOMAIN, params, files or [], now=NOW, max_size=max_size)


def built(req: SendRequest) -> list[ParsedMessage]:
    """The request's messages, parsed back."""
    return [ParsedMessage(m.raw) for m in build_messages(req, MID, now=NOW)]


def refused(message: str, **fields: Any) -> None:
    """Assert parse_send answers 400 with exactly ``message``."""
    with pytest.raises(BadRequest) as info:
        send(**fields)
    assert info.value.message == message and info.value.status == 400


@pytest.mark.parametrize("value", [None, "", "   ", []])
def test_parse_send_from_missing(value: Any) -> None:
    """An absent or blank from is refused with Mailgun's message."""
    refused("from parameter is missing", **{"from": value})


@pytest.mark.parametrize("value", [None, "", " ", []])
def test_parse_send_to_missing(value: Any) -> None:
    """An absent or blank to is refused, even when cc and bcc are given."""
    refused("to parameter is missing", to=value, cc="c@example.com", bcc="b@example.com")


def test_parse_send_body_missing() -> None:
    """Without text, html, amp-html or template the OAS wording is answered; empty bodies count as missing."""
    refused("Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified", text=None)
    refused("Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified", text="", html="")


def test_parse_send_template_with_html_refused() -> None:
    """The parser refuses html beside template with Mailgun's message (the backend renders a template first)."""
    refused("Only one parameters 'html' or 'template' is allowed", html="<p>x</p>", template="welcome")


@pytest.mark.parametrize("value", ["bob", "bob@", "@example.com", "Jane Doe jane@example.com", "Doe, Jane <j@x.org>",
                                   '"unterminated <j@x.org>', "<a@x.org> trailing", "<a@x.org", "a@x.org>",
                                   "<a@x.org> <b@x.org>", "a b@x.org", "a@x.org\nBcc: evil@x.org", "a@@x.org"])
def test_parse_send_invalid_to_address(value: str) -> None:
    """An unparseable To address gets Mailgun's observed message."""
    refused("to parameter is not a valid address. please check documentation", to=value)


def test_parse_send_invalid_cc_bcc_from_address() -> None:
    """Invalid cc, bcc and from addresses name their own parameter."""
    for name in ("cc", "bcc", "from"):
        refused(f"{name} parameter is not a valid address. please check documentation", **{name: "nobody"})


@pytest.mark.parametrize("value", ["nope", "[1, 2]", '"a@x.org"', "", "{", "[" * 100_000])
def test_parse_send_recipient_variables_not_json(value: str) -> None:
    """recipient-variables that are not a JSON object are refused with Mailgun's message."""
    refused("'recipient-variables' parameter is not a valid JSON", recipient_variables=value)


def test_parse_send_too_many_recipients_counts_to_cc_bcc() -> None:
    """1000 recipients across To, Cc and Bcc pass; one more is refused; duplicates count once."""
    to = [f"t{n}@example.com" for n in range(400)]
    cc = ", ".join(f"c{n}@example.com" for n in range(300))
    bcc = [f"b{n}@example.com" for n in range(300)]
    assert len(send(to=to, cc=cc, bcc=bcc + ["T1@example.com"]).recipients) == 1000
    refused("Too many recipients, max is 1000", to=to, cc=cc, bcc=bcc + ["one-more@example.com"])


def test_parse_send_options_over_16_kb() -> None:
    """o:, h:, v: and t: fields over 16 kB in total are refused; just under passes."""
    refused("Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total",
            v_a="x" * 8000, h_X_B="y" * 8000, o_tag="z" * 500)
    assert send(v_a="x" * 8000, h_X_B="y" * 8000).user_variables["a"] == "x" * 8000


@pytest.mark.parametrize("value", ["tomorrow", "2025-01-06T10:15:00Z", "", "Mon, 99 Foo 2025 10:15:00 +0000"])
def test_parse_send_bad_deliverytime(value: str) -> None:
    """An o:deliverytime that is not RFC 2822 is refused, quoting the value."""
    refused(f"{value} is not an RFC-2822 compliant date", o_deliverytime=value)


def test_parse_send_payload_too_large() -> None:
    """A request over max_size is a 413 naming the limit in MiB, as Mailgun's 52.4MiB message does."""
    limit = 54_945_382
    with pytest.raises(PayloadTooLarge) as info:
        send(files=[("attachment", "big.bin", bytes(limit), "application/octet-stream")], max_size=limit)
    assert (info.value.status, info.value.message) == (413, "request size exceeds 52.4MiB limit")
    with pytest.raises(PayloadTooLarge, match=r"^request size exceeds 0\.0MiB limit$"):
        send(text="x" * 200, max_size=100)


def test_parse_send_tricky_display_names() -> None:
    """Quoted commas, escaped quotes, comments and non-ASCII names each stay one address."""
    to = ['"Doe, Jane" <jane@example.com>', r'"Say \"hi\", Al" <al@example.com>', "cy@example.com (Cy, the boss)",
          "Jürgen Müller <jm@example.com>", '"<weird>@name" <w@example.com>', '"quoted local"@example.com',
          "Zoë <zoe@bücher.example>"]
    req = send(to=", ".join(to))
    assert req.to == tuple(to)
    assert req.recipients == ("jane@example.com", "al@example.com", "cy@example.com", "jm@example.com",
                              "w@example.com", '"quoted local"@example.com', "zoe@bücher.example")
    msg = built(req)[0]
    assert msg.addresses("To") == list(req.recipients)
    assert 'Doe, Jane' in msg.header("To") and "Jürgen Müller" in msg.header("To")


def test_parse_send_repeated_and_comma_separated_to() -> None:
    """Repeated to fields and comma-separated lists combine, deduplicated case-insensitively in order."""
    req = send(to=["a@example.com, b@example.com", "c@example.com,", "A@EXAMPLE.COM"], cc="b@example.com")
    assert req.to == ("a@example.com", "b@example.com", "c@example.com", "A@EXAMPLE.COM")
    assert req.recipients == ("a@example.com", "b@example.com", "c@example.com")


def test_parse_send_accepts_multidict() -> None:
    """A werkzeug MultiDict works like a dict of lists, repeated keys included."""
    form = MultiDict([("from", "bob@mg.example.com"), ("to", "a@example.com"), ("to", "b@example.com"),
                      ("text", "x"), ("o:tag", "one"), ("o:tag", "two"), ("v:k", "v")])
    req = parse_send(DOMAIN, form, [], now=NOW, max_size=10_000)
    assert (req.recipients, req.tags, req.user_variables) == (("a@example.com", "b@example.com"), ("one", "two"),
                                                              {"k": "v"})


def test_build_messages_bcc_only_in_envelope() -> None:
    """Without recipient-variables one message goes to To, Cc and Bcc; Bcc is in the envelope, not the headers."""
    [out] = build_messages(send(to="a@example.com", cc="c@example.com", bcc="Hidden <h@example.com>"), MID, now=NOW)
    msg = ParsedMessage(out.raw)
    assert out.recipients == ("a@example.com", "c@example.com", "h@example.com")
    assert (msg.header("To"), msg.header("Cc")) == ("a@example.com", "c@example.com")
    assert b"h@example.com" not in out.raw and msg.header_values("Bcc") == []


def test_build_messages_headers_tags_and_variables() -> None:
    """Message-Id, Date from now, X-Mailgun-Tag per tag, X-Mailgun-Variables (JSON values kept as given), h: headers."""
    req = send(o_tag=["newsletter", "September"], v_user_id="42", v_order='{"id": 7, "items": [1]}',
               h_Reply_To="help@example.com", h_X_Custom="yes")
    msg = built(req)[0]
    assert msg.message_id == MID and msg.header("Date") == "Mon, 06 Jan 2025 10:15:00 +0000"
    assert msg.header_values("X-Mailgun-Tag") == ["newsletter", "September"]
    assert json.loads(msg.header("X-Mailgun-Variables")) == {"user_id": "42", "order": '{"id": 7, "items": [1]}'}
    assert req.user_variables == {"user_id": "42", "order": '{"id": 7, "items": [1]}'}
    assert (msg.header("Reply-To"), msg.header("X-Custom")) == ("help@example.com", "yes")


def test_build_messages_reserved_h_headers_ignored_and_date_override() -> None:
    """h: headers clashing with To, Bcc, Message-Id or Content-Type are ignored; h:Date replaces the generated Date."""
    msg = built(send(h_To="x@evil.example", h_Bcc="y@evil.example", h_Message_Id="<mine@x>",
                     h_Content_Type="text/csv", h_Date="Tue, 07 Jan 2025 08:00:00 +0100"))[0]
    assert msg.header_values("To") == ["ann@example.com"] and msg.header_values("Bcc") == []
    assert msg.header_values("Message-Id") == [MID] and msg.header("Content-Type").startswith("text/plain")
    assert msg.header_values("Date") == ["Tue, 07 Jan 2025 08:00:00 +0100"]


def test_parse_send_invalid_header_name() -> None:
    """An h: field whose name cannot be a header is refused."""
    fields: dict[str, Any] = {"h:X Bad": "v"}
    with pytest.raises(BadRequest, match="not a valid header name"):
        send(**fields)


def test_build_messages_attachments_and_inline() -> None:
    """Attachment and inline bytes survive; the inline part's Content-ID is <filename>; nameless files get a name."""
    pdf = b"%PDF-1.4\n\x00\xff binary"
    req = send(html='<img src="cid:logo.png">', files=[
        ("attachment", "report.pdf", pdf, "application/pdf"), ("inline", "logo.png", PNG, "image/png"),
        ("attachment[1]", "", b"raw", ""), ("other", "ignored.txt", b"x", "text/plain")])
    assert [f[0] for f in req.attachments] == ["report.pdf", "attachment-2"]
    msg = built(req)[0]
    got = {a.filename: (a.content, a.content_type, a.disposition) for a in msg.attachments}
    assert got == {"logo.png": (PNG, "image/png", "inline"), "report.pdf": (pdf, "application/pdf", "attachment"),
                   "attachment-2": (b"raw", "application/octet-stream", "attachment")}
    assert msg.content_id_map["<logo.png>"].content == PNG


def test_build_messages_amp_html_alternative() -> None:
    """amp-html becomes a text/x-amp-html alternative between text/plain and text/html, attachments intact."""
    req = send(html="<p>h</p>", amp_html="<html amp4email>a</html>", files=[("attachment", "a.bin", PNG, "")])
    raw = build_messages(req, MID, now=NOW)[0].raw
    order = [t for t in (b"text/plain", b"text/x-amp-html", b"text/html") if t in raw]
    assert order == [b"text/plain", b"text/x-amp-html", b"text/html"]
    assert raw.index(b"text/plain") < raw.index(b"text/x-amp-html") < raw.index(b"text/html")
    assert [a.content for a in ParsedMessage(raw).attachments if a.filename == "a.bin"] == [PNG]
    alone = build_messages(send(text=None, amp_html="<b>amp only</b>"), MID, now=NOW)[0].raw
    assert b"multipart/alternative" in alone and b"<b>amp only</b>" in alone


def test_build_messages_batch_recipient_variables() -> None:
    """With recipient-variables each To recipient gets one message showing only their address, substituted."""
    variables = {"alice@example.com": {"name": "Alice", "id": 1}, "BOB@example.com": {"name": "Bob", "id": 2.5}}
    req = send(to=["Alice <alice@example.com>", "bob@example.com", "carol@example.com"],
               subject="Hey %recipient.name%", text="Id %recipient.id% for %recipient%",
               html="<p>%recipient.name%</p>", h_X_Id="%recipient.id%", v_uid="%recipient.id%",
               recipient_variables=json.dumps(variables))
    out = build_messages(req, MID, now=NOW)
    assert [m.recipients for m in out] == [("alice@example.com",), ("bob@example.com",), ("carol@example.com",)]
    msgs = [ParsedMessage(m.raw) for m in out]
    assert [m.header_values("To") for m in msgs] == [["Alice <alice@example.com>"], ["bob@example.com"],
                                                      ["carol@example.com"]]
    assert [m.subject for m in msgs] == ["Hey Alice", "Hey Bob", "Hey"]  # a missing key becomes ""
    assert [m.body_plain.strip() for m in msgs] == ["Id 1 for alice@example.com", "Id 2.5 for bob@example.com",
                                                    "Id  for carol@example.com"]
    assert msgs[0].body_html.strip() == "<p>Alice</p>" and msgs[1].header("X-Id") == "2.5"
    assert json.loads(msgs[0].header("X-Mailgun-Variables")) == {"uid": "1"}
    assert {m.message_id for m in msgs} == {MID}


def test_build_messages_batch_cc_and_bcc_copies() -> None:
    """In batch mode Cc and Bcc recipients get their own copy with an undisclosed To; Cc stays visible to all."""
    req = send(to=["a@example.com", "b@example.com"], cc="c@example.com", bcc="d@example.com",
               text="hi %recipient.n%", recipient_variables='{"c@example.com": {"n": "Cee"}}')
    out = build_messages(req, MID, now=NOW)
    assert [m.recipients for m in out] == [(a,) for a in ("a@example.com", "b@example.com", "c@example.com",
                                                          "d@example.com")]
    msgs = [ParsedMessage(m.raw) for m in out]
    assert [m.addresses("To") for m in msgs] == [["a@example.com"], ["b@example.com"], [], []]
    assert all(m.header("Cc") == "c@example.com" and b"d@example.com" not in m.raw for m in msgs[:3])
    assert msgs[2].header("To") == "undisclosed-recipients:;" and msgs[2].body_plain.strip() == "hi Cee"


def test_build_messages_placeholders_untouched_without_recipient_variables() -> None:
    """Without recipient-variables %recipient.x% stays as written, as Mailgun only substitutes in batch sends."""
    assert built(send(subject="Hi %recipient.name%"))[0].subject == "Hi %recipient.name%"


def test_parse_send_deliverytime() -> None:
    """o:deliverytime in RFC 2822 becomes epoch seconds; a date without a zone is read as UTC; absent is None."""
    assert send(o_deliverytime="Mon, 06 Jan 2025 12:15:00 +0200").deliver_at == NOW
    assert send(o_deliverytime="Mon, 06 Jan 2025 10:15:00 -0000").deliver_at == NOW
    assert send(o_deliverytime="6 Jan 2025 10:15:00").deliver_at == NOW
    assert send().deliver_at is None


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("true", True), ("True", True), ("1", True),
                                                 ("YES", True), ("no", False), ("false", False), ("", False),
                                                 ("maybe", False), (None, False)])
def test_parse_send_test_mode(value: str | None, expected: bool) -> None:
    """o:testmode is on for yes, true, True and 1, and off otherwise."""
    assert send(o_testmode=value).test_mode is expected


def test_parse_send_tracking_and_unknown_options() -> None:
    """Yes/no options parse to booleans, tracking-clicks keeps htmlonly, unknown o: options are recorded only."""
    req = send(o_tracking="no", o_tracking_clicks="htmlonly", o_tracking_opens="yes", o_dkim="false",
               o_require_tls="True", o_skip_verification="no", o_sending_ip_pool="pool-1", o_whatever="x")
    assert (req.tracking, req.tracking_clicks, req.tracking_opens) == (False, "htmlonly", True)
    assert (req.dkim, req.require_tls, req.skip_verification) == (False, True, False)
    assert ("sending-ip-pool", "pool-1") in req.options and ("whatever", "x") in req.options
    assert send(o_tracking_clicks="true").tracking_clicks == "yes"
    plain = send()
    assert (plain.tracking, plain.tracking_clicks, plain.dkim) == (None, None, None)


def test_parse_send_tag_limit() -> None:
    """Tags keep their order, repeats and empty tags are dropped, and only the first MAX_TAGS are kept."""
    tags = [f"t{n}" for n in range(12)]
    assert send(o_tag=["a", "a", "", "b"]).tags == ("a", "b")
    assert send(o_tag=tags).tags == tuple(tags[:MAX_TAGS]) and MAX_TAGS == 10


def test_message_id_format() -> None:
    """Message ids look like <YYYYMMDDhhmmss.<16 lowercase hex>@domain>, in UTC, from the token."""
    assert message_id(DOMAIN, NOW + 0.9, "0123456789ABCDEF0000") == MID
    with pytest.raises(ValueError):
        message_id(DOMAIN, NOW, "not-hex-at-all-xx")
    with pytest.raises(ValueError):
        message_id(DOMAIN, NOW, "abc")


MIME = (b"From: =?utf-8?q?B=C3=B8b?= <bob@mg.example.com>\r\nTo: ann@example.com\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?="
        b"\r\nContent-Type: text/plain\r\n\r\nbody\r\n")


def mime_send(params: dict[str, Any], message: bytes | None = MIME) -> SendRequest:
    """parse_send_mime with ``message`` as a file part."""
    files = [] if message is None else [("message", "message.mime", message, "message/rfc822")]
    return parse_send_mime(DOMAIN, params, files, now=NOW, max_size=1_000_000)


def test_parse_send_mime_errors() -> None:
    """messages.mime refuses a missing message, a message sent as a plain field, and a missing to."""
    for params, message, expected in [({"to": "a@example.com"}, None, "message parameter is missing"),
                                      ({"to": "a@example.com", "message": "From: x"}, None,
                                       "'message' parameter is not a file"),
                                      ({}, MIME, "to parameter is missing"),
                                      ({"to": "nobody"}, MIME,
                                       "to parameter is not a valid address. please check documentation")]:
        with pytest.raises(BadRequest) as info:
            mime_send(params, message)
        assert info.value.message == expected


def test_parse_send_mime_builds_unchanged_message_with_message_id() -> None:
    """The MIME is delivered unchanged to every to address, with only a Message-Id prepended when missing."""
    req = mime_send({"to": ["ann@example.com, cc@example.com", "bcc@example.com"], "o:tag": "t", "v:k": "v",
                     "o:testmode": "yes", "o:deliverytime": "Mon, 06 Jan 2025 10:15:00 +0000"})
    assert (req.from_, req.sender, req.subject) == ("Bøb <bob@mg.example.com>", "bob@mg.example.com", "Grüße")
    assert (req.tags, req.user_variables, req.test_mode, req.deliver_at) == (("t",), {"k": "v"}, True, NOW)
    [out] = build_messages(req, MID, now=NOW)
    assert out.recipients == ("ann@example.com", "cc@example.com", "bcc@example.com")
    assert out.raw == b"Message-Id: " + MID.encode() + b"\r\n" + MIME and req.mime_message_id is None


def test_parse_send_mime_keeps_existing_message_id() -> None:
    """A MIME that has a Message-Id is delivered byte for byte, and its id is reported."""
    raw = b"Message-ID: <own@client.example>\nFrom: a@example.com\n\nx\n"
    req = mime_send({"to": "b@example.com"}, raw)
    assert req.mime_message_id == "<own@client.example>"
    assert build_messages(req, MID, now=NOW)[0].raw == raw


def test_mime_content_type_error() -> None:
    """Only multipart/form-data passes; anything else gets Mailgun's message naming the type received."""
    assert mime_content_type_error("multipart/form-data; boundary=x") is None
    assert mime_content_type_error("Multipart/Form-Data") is None
    assert mime_content_type_error("application/x-www-form-urlencoded; charset=utf-8") == (
        "Invalid request content type. Expecting 'multipart/form-data' but got 'application/x-www-form-urlencoded'")


_NAMES = ["from", "to", "cc", "bcc", "subject", "text", "html", "amp-html", "template", "recipient-variables",
          "o:tag", "o:testmode", "o:deliverytime", "o:tracking-clicks", "h:Reply-To", "h:X-Any", "v:var", "message"]
_TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["a@example.com", '"A, B" <ab@example.com>', "yes", "{}",
                                                          '{"a@example.com": {"x": 1}}', "%recipient.x%",
                                                          "Mon, 06 Jan 2025 10:15:00 +0000"]))
_PARAMS = st.dictionaries(st.one_of(st.sampled_from(_NAMES), st.text(max_size=8).map(lambda s: "h:" + s)),
                          st.one_of(_TEXT, st.lists(_TEXT, max_size=3)), max_size=8)
_FILES = st.lists(st.tuples(st.sampled_from(["attachment", "inline", "message"]), st.text(max_size=10),
                            st.binary(max_size=40), st.text(max_size=15)), max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=_PARAMS, files=_FILES)
def test_parse_send_random_params_only_raise_mailgun_errors(params: dict[str, Any],
                                                            files: list[tuple[str, str, bytes, str]]) -> None:
    """Any form either parses and builds, or fails with BadRequest or PayloadTooLarge, on both endpoints."""
    for parse in (parse_send, parse_send_mime):
        try:
            req = parse(DOMAIN, params, files, now=NOW, max_size=2_000)
        except (BadRequest, PayloadTooLarge):
            continue
        try:
            for out in build_messages(req, MID, now=NOW):
                assert out.recipients and ParsedMessage(out.raw).message_id
        except BadRequest:
            pass
