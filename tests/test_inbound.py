"""Inbound mail end to end: routes fire real, signed webhooks at a real receiver (pytest-httpserver)."""

from __future__ import annotations

import hashlib
import hmac
import json
import pathlib
import time
from email.message import EmailMessage
from urllib.parse import parse_qsl

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request

from mailgun_mock import MailgunMock

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"


def route(mock: MailgunMock, expression: str, *actions: str, priority: int = 0) -> str:
    return mock.backend.create_route(expression, list(actions), priority).id


def form_of(request: Request) -> list[tuple[str, str]]:
    """The POSTed fields in order, repeated keys kept, whatever the encoding."""
    if request.mimetype == "application/x-www-form-urlencoded":
        return parse_qsl(request.get_data(as_text=True), keep_blank_values=True)
    return list(request.form.items(multi=True))


def assert_signed(fields: dict[str, str], key: str) -> None:
    """An independent check of Mailgun's signature: hex HMAC-SHA256(key, timestamp + token)."""
    expected = hmac.new(key.encode(), (fields["timestamp"] + fields["token"]).encode(), hashlib.sha256).hexdigest()
    assert fields["signature"] == expected
    assert len(fields["token"]) == 50 and all(c in "0123456789abcdef" for c in fields["token"])
    assert abs(int(fields["timestamp"]) - time.time()) < 3600 * 24 * 30  # int seconds, near (mock) now


def sample_message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Bob Example <bob@example.net>"
    msg["To"] = "support@example.com"
    msg["Subject"] = "Re: Order 4711"
    msg["Message-ID"] = "<abc123@example.net>"
    msg["X-Custom"] = "one"
    msg["X-Custom"] = "two"
    msg.set_content("Where is my order?\n\n-- \nBob\n\nOn Mon, Jan 6, 2025 at 9:00 AM Shop <shop@example.com> wrote:\n> Thanks for your order\n")
    msg.add_alternative("<p>Where is my order?</p>", subtype="html")
    return msg


def test_forward_posts_parsed_fields_signed(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """forward(url) POSTs Mailgun's parsed fields, every header under its own name, urlencoded, signed."""
    receiver.expect_request("/inbound", method="POST").respond_with_data("ok")
    route(mailgun_mock, 'match_recipient("support@example.com")', f'forward("{receiver.url_for("/inbound")}")')
    answer = mailgun_mock.inject(sample_message())
    assert answer["id"] == "<abc123@example.net>"
    (request, _), = receiver.log
    assert request.mimetype == "application/x-www-form-urlencoded"
    pairs = form_of(request)
    fields = dict(pairs)
    assert fields["recipient"] == "support@example.com"
    assert fields["sender"] == "bob@example.net"
    assert fields["from"] == "Bob Example <bob@example.net>"
    assert fields["subject"] == "Re: Order 4711"
    assert fields["body-plain"].startswith("Where is my order?")
    assert fields["stripped-text"].strip() == "Where is my order?"
    assert "Bob" in fields["stripped-signature"]
    assert fields["body-html"].strip() == "<p>Where is my order?</p>"
    assert "attachment-count" not in fields
    assert json.loads(fields["content-id-map"]) == {}
    headers = json.loads(fields["message-headers"])
    assert ["Subject", "Re: Order 4711"] in headers
    assert [h for h in headers if h[0] == "X-Custom"] == [["X-Custom", "one"], ["X-Custom", "two"]]
    assert [v for k, v in pairs if k == "X-Custom"] == ["one", "two"]
    assert fields["Message-ID"] == "<abc123@example.net>" and fields["Subject"] == "Re: Order 4711"
    assert_signed(fields, mailgun_mock.signing_key)


def test_forward_with_attachments_is_multipart_with_files(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """Attachments go as files attachment-1..N, with attachment-count and a content-id-map to field names."""
    receiver.expect_request("/inbound").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for("/inbound")}")')
    raw = (FIXTURES / "inline-images.eml").read_bytes()
    mailgun_mock.inject(raw, recipients=["in@example.com"])
    (request, _), = receiver.log
    assert request.mimetype == "multipart/form-data"
    fields = request.form.to_dict()
    count = int(fields["attachment-count"])
    assert count == len(request.files) >= 2
    cid_map = json.loads(fields["content-id-map"])
    assert cid_map and set(cid_map.values()) <= {f"attachment-{i}" for i in range(1, count + 1)}
    from mailgun_mock.mail.parse import ParsedMessage

    expected = ParsedMessage(raw).attachments
    for i, attachment in enumerate(expected, 1):
        posted = request.files[f"attachment-{i}"]
        assert posted.read() == attachment.content
        assert posted.filename == attachment.filename
    assert_signed(fields, mailgun_mock.signing_key)


@pytest.mark.parametrize("path", ["/inbound/mime", "/inbound/raw-mime/", "/mime"])
def test_forward_to_mime_url_posts_body_mime(mailgun_mock: MailgunMock, receiver: HTTPServer, path: str) -> None:
    """A URL whose path ends in 'mime' (trailing / ignored) gets the raw message in body-mime."""
    receiver.expect_request(path).respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for(path)}")')
    raw = sample_message().as_bytes()
    mailgun_mock.inject(raw)
    (request, _), = receiver.log
    fields = dict(form_of(request))
    assert fields["body-mime"].encode() == raw
    assert "body-plain" not in fields and "body-html" not in fields
    assert fields["recipient"] == "support@example.com"
    assert_signed(fields, mailgun_mock.signing_key)


def test_each_recipient_gets_its_own_post(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """Two recipients matching two routes give one POST per (recipient, route), each naming only its recipient."""
    receiver.expect_request("/sales").respond_with_data("ok")
    receiver.expect_request("/all").respond_with_data("ok")
    route(mailgun_mock, 'match_recipient("sales@")', f'forward("{receiver.url_for("/sales")}")', priority=1)
    route(mailgun_mock, 'match_recipient(".*@example.com")', f'forward("{receiver.url_for("/all")}")', priority=2)
    msg = sample_message()
    del msg["To"]
    msg["To"] = "sales@example.com, help@example.com"
    answer = mailgun_mock.inject(msg)
    assert [r["recipient"] for r in answer["recipients"]] == ["sales@example.com", "help@example.com"]
    posts = sorted((r.path, dict(form_of(r))["recipient"]) for r, _ in receiver.log)
    assert posts == [("/all", "help@example.com"), ("/all", "sales@example.com"), ("/sales", "sales@example.com")]


def test_stop_ends_the_waterfall_and_catch_all_only_when_nothing_matched(mailgun_mock: MailgunMock,
                                                                        receiver: HTTPServer) -> None:
    """stop() keeps lower routes from running; catch_all() fires only for recipients nothing else matched."""
    receiver.expect_request("/vip").respond_with_data("ok")
    receiver.expect_request("/never").respond_with_data("ok")
    receiver.expect_request("/rest").respond_with_data("ok")
    route(mailgun_mock, 'match_recipient("vip@")', f'forward("{receiver.url_for("/vip")}")', "stop()", priority=0)
    route(mailgun_mock, 'match_recipient(".*")', f'forward("{receiver.url_for("/never")}")', priority=5)
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for("/rest")}")', priority=10)
    answer = mailgun_mock.inject(sample_message(), recipients=["vip@example.com", "other@example.com"])
    vip, other = answer["recipients"]
    assert vip["stopped_by"] == vip["matched"][0]
    assert len(vip["routes"]) == 1  # nothing after stop() is evaluated
    assert other["routes"][-1]["matched"] is False  # catch_all: an earlier route matched
    assert "an earlier route matched" in other["routes"][-1]["explanation"]
    paths = sorted((r.path, dict(form_of(r))["recipient"]) for r, _ in receiver.log)
    assert paths == [("/never", "other@example.com"), ("/vip", "vip@example.com")]


def test_catch_all_fires_when_nothing_matched(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """A recipient no filter matches goes to the catch_all() route."""
    receiver.expect_request("/rest").respond_with_data("ok")
    route(mailgun_mock, 'match_recipient("vip@")', "stop()")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for("/rest")}")', priority=10)
    mailgun_mock.inject(sample_message(), recipients=["nobody@example.org"])
    assert [dict(form_of(r))["recipient"] for r, _ in receiver.log] == ["nobody@example.org"]


def test_captures_fill_the_forward_url(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """\\1 and \\g<name> in forward URLs are filled from the matching filter's captures."""
    receiver.expect_request("/boxes/alice/example.com").respond_with_data("ok")
    base = receiver.url_for("/boxes")
    route(mailgun_mock, 'match_recipient("(?P<user>[^@]+)@(?P<domain>.+)")', f'forward("{base}/\\g<user>/\\2")')
    mailgun_mock.inject(sample_message(), recipients=["alice@example.com"])
    (request, _), = receiver.log
    assert request.path == "/boxes/alice/example.com"


def test_inject_answer_explains_non_matches(mailgun_mock: MailgunMock) -> None:
    """The inject answer says, per recipient and route, whether it matched and why not."""
    rid = route(mailgun_mock, 'match_recipient("sales@")', "store()")
    answer = mailgun_mock.inject(sample_message())
    (rcpt,) = answer["recipients"]
    assert rcpt["matched"] == []
    assert rcpt["routes"] == [{
        "id": rid, "priority": 0, "expression": 'match_recipient("sales@")', "matched": False, "captures": {},
        "explanation": "match_recipient('sales@'): recipient 'support@example.com' does not match", "timed_out": [],
    }]


def test_store_notify_posts_seed_format_and_message_is_retrievable(mailgun_mock: MailgunMock,
                                                                  receiver: HTTPServer) -> None:
    """store(notify=) POSTs attachments as JSON URLs (from 0), message-url and domain; the URL serves the message."""
    receiver.expect_request("/stored").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'store(notify="{receiver.url_for("/stored")}")')
    raw = (FIXTURES / "attachment-pdf.eml").read_bytes()
    answer = mailgun_mock.inject(raw, recipients=["docs@example.com"])
    storage = answer["recipients"][0]["actions"][0]["storage"]
    (request, _), = receiver.log
    fields = dict(form_of(request))
    assert_signed(fields, mailgun_mock.signing_key)
    assert not request.files and "attachment-count" not in fields
    assert fields["domain"] == "example.com"
    assert fields["message-url"] == storage["url"]
    assert storage["url"] == f"{mailgun_mock.url}/v3/domains/example.com/messages/{storage['key']}"
    attachments = json.loads(fields["attachments"])
    assert [a["url"] for a in attachments] == [f"{storage['url']}/attachments/{i}" for i in range(len(attachments))]
    assert attachments[0]["content-type"] == "application/pdf" and attachments[0]["name"].endswith(".pdf")

    auth = ("api", mailgun_mock.api_key)
    stored = requests.get(storage["url"], auth=auth, timeout=5).json()
    assert stored["recipients"] == "docs@example.com"
    assert stored["attachments"] == attachments
    assert isinstance(stored["message-headers"], list)
    pdf = requests.get(attachments[0]["url"], auth=auth, timeout=5)
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) == attachments[0]["size"]
    assert pdf.headers["Content-Type"] == "application/pdf"
    mime = requests.get(storage["url"], auth=auth, headers={"Accept": "message/rfc2822"}, timeout=5).json()
    assert mime["body-mime"].encode() == raw
    assert requests.delete(storage["url"], auth=auth, timeout=5).status_code == 200
    gone = requests.get(storage["url"], auth=auth, timeout=5)
    assert (gone.status_code, gone.json()) == (404, {"message": "Message not found"})


def test_stored_message_expires_after_retention(mailgun_mock: MailgunMock) -> None:
    """A stored message is served until 3 days have passed on the mock's clock, then 404."""
    route(mailgun_mock, "catch_all()", "store()")
    url = mailgun_mock.inject(sample_message())["recipients"][0]["actions"][0]["storage"]["url"]
    auth = ("api", mailgun_mock.api_key)
    mailgun_mock.advance_clock(3 * 86400 - 60)
    assert requests.get(url, auth=auth, timeout=5).status_code == 200
    mailgun_mock.advance_clock(120)
    assert requests.get(url, auth=auth, timeout=5).status_code == 404


def test_seed_sample_app_reads_stored_messages(mailgun_mock: MailgunMock) -> None:
    """The store() announcement's sample app works: list stored events, fetch each storage.url, read fields."""
    route(mailgun_mock, "catch_all()", "store()")
    mailgun_mock.inject(sample_message())
    auth = ("api", mailgun_mock.api_key)
    r = requests.get(f"{mailgun_mock.url}/v2/example.com/events", params={"event": "stored"}, auth=auth, timeout=5)
    items = r.json()["items"]
    assert len(items) == 1
    message = requests.get(items[0]["storage"]["url"], auth=auth, timeout=5).json()
    assert (message["from"], message["subject"]) == ("Bob Example <bob@example.net>", "Re: Order 4711")
    assert message["body-plain"].startswith("Where is my order?")


def test_retries_follow_the_schedule_with_fresh_signatures(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """500, 500, 200: three attempts at t0, t0+10m, t0+20m on the mock's clock, each freshly signed."""
    for status in (500, 500):
        receiver.expect_oneshot_request("/flaky").respond_with_data("no", status=status)
    receiver.expect_request("/flaky").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for("/flaky")}")')
    mailgun_mock.inject(sample_message())
    assert len(receiver.log) == 1
    mailgun_mock.advance_clock(599)
    assert len(receiver.log) == 1
    mailgun_mock.advance_clock(1)
    assert len(receiver.log) == 2
    mailgun_mock.advance_clock(600)
    assert len(receiver.log) == 3
    tokens = set()
    for request, _ in receiver.log:
        fields = dict(form_of(request))
        assert_signed(fields, mailgun_mock.signing_key)
        tokens.add(fields["token"])
    assert len(tokens) == 3
    attempts = mailgun_mock.deliveries
    assert [(a["attempt"], a["status"], a["outcome"]) for a in attempts] == [
        (1, 500, "retrying"), (2, 500, "retrying"), (3, 200, "delivered")]
    t0 = attempts[0]["scheduled_at"]
    assert [a["scheduled_at"] - t0 for a in attempts] == [0, 600, 1200]
    events = [(e["event"], e.get("severity")) for e in mailgun_mock.events if e["event"] in ("delivered", "failed")]
    assert events == [("failed", "temporary"), ("failed", "temporary"), ("delivered", None)]


def test_406_is_not_retried(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """A 406 answer stops delivery at once: one attempt, a permanent failure."""
    receiver.expect_request("/reject").respond_with_data("no", status=406)
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for("/reject")}")')
    mailgun_mock.inject(sample_message())
    mailgun_mock.advance_clock(9 * 3600)
    assert len(receiver.log) == 1
    assert [(a["status"], a["outcome"]) for a in mailgun_mock.deliveries] == [(406, "rejected")]
    failed = [e for e in mailgun_mock.events if e["event"] == "failed"]
    assert [(e["severity"], e["delivery-status"]["code"]) for e in failed] == [("permanent", 406)]


def test_dead_receiver_is_retried_then_failed_permanently(mailgun_mock: MailgunMock) -> None:
    """A refused connection is retried on the whole schedule within one 9-hour jump, then fails permanently."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    route(mailgun_mock, "catch_all()", f'forward("http://127.0.0.1:{port}/gone")')
    mailgun_mock.inject(sample_message())
    mailgun_mock.advance_clock(9 * 3600)
    attempts = mailgun_mock.deliveries
    assert len(attempts) == 8
    assert all(a["status"] is None and a["error"] for a in attempts)
    assert [a["outcome"] for a in attempts] == ["retrying"] * 7 + ["failed"]
    t0 = attempts[0]["scheduled_at"]
    assert [a["scheduled_at"] - t0 for a in attempts] == [0, 600, 1200, 2100, 3900, 7500, 14700, 29100]
    severities = [e["severity"] for e in mailgun_mock.events if e["event"] == "failed"]
    assert severities == ["temporary"] * 7 + ["permanent"]
    listed = requests.get(f"{mailgun_mock.url}/mock/deliveries", auth=("api", mailgun_mock.api_key), timeout=5).json()
    assert listed["total_count"] == 8 and listed["items"][-1]["outcome"] == "failed"


def test_hanging_receiver_does_not_block_the_api() -> None:
    """While a receiver holds a webhook open, the API keeps answering and the attempt stays unfinished."""
    import threading

    arrived, release = threading.Event(), threading.Event()

    def hang(request: Request) -> str:
        arrived.set()
        release.wait(20)
        return "ok"

    receiver = HTTPServer(threaded=True)
    receiver.expect_request("/hang").respond_with_handler(hang)
    receiver.start()
    try:
        with MailgunMock(delivery_timeout=30) as mock:
            mock.backend.create_route("catch_all()", [f'forward("{receiver.url_for("/hang")}")'])
            mock.inject(sample_message(), wait=False)
            assert arrived.wait(10)
            reply = requests.get(f"{mock.url}/v3/routes", auth=("api", mock.api_key), timeout=5)
            assert reply.status_code == 200
            mock.inject(sample_message(), wait=False)  # inbound still accepted while one hangs
            assert mock.deliveries == []  # the first webhook is still in flight
            release.set()
            assert mock.backend.delivery.run_due(10)
            assert [a["outcome"] for a in mock.deliveries] == ["delivered", "delivered"]
    finally:
        release.set()
        receiver.stop()


def test_forward_to_address_is_an_outgoing_message(mailgun_mock: MailgunMock) -> None:
    """forward("a@b") records the copy (retrievable) with accepted and delivered events for that address."""
    route(mailgun_mock, "catch_all()", 'forward("archive@example.org, audit@example.org")')
    answer = mailgun_mock.inject(sample_message())
    actions = answer["recipients"][0]["actions"]
    assert [a["address"] for a in actions] == ["archive@example.org", "audit@example.org"]
    copy = mailgun_mock.stored_message(actions[0]["storage"]["url"])
    assert copy["recipients"] == "archive@example.org"
    delivered = [e["recipient"] for e in mailgun_mock.events if e["event"] == "delivered"]
    assert delivered == ["archive@example.org", "audit@example.org"]


def test_routed_mail_yields_accepted_and_stored_events(mailgun_mock: MailgunMock) -> None:
    """Per recipient an accepted event with is-routed and the matched routes; a stored event for store()."""
    rid = route(mailgun_mock, 'match_recipient("support@")', "store()")
    mailgun_mock.inject(sample_message())
    accepted, stored = mailgun_mock.events
    assert accepted["event"] == "accepted" and accepted["flags"]["is-routed"] is True
    assert accepted["routes"] == [{"expression": 'match_recipient("support@")', "id": rid,
                                   "match": {"recipient": "support@example.com"}}]
    assert accepted["message"]["headers"]["message-id"] == "abc123@example.net"
    assert stored["event"] == "stored" and stored["message"]["recipients"] == ["support@example.com"]
    assert stored["storage"]["url"].endswith(stored["storage"]["key"])
    assert len(stored["id"]) == 22 and isinstance(stored["timestamp"], float)


def test_unrouted_mail_leaves_no_event(mailgun_mock: MailgunMock) -> None:
    """A message no route matches is answered with the reasons and logs nothing."""
    answer = mailgun_mock.inject(sample_message())
    assert answer["recipients"][0]["matched"] == []
    assert mailgun_mock.events == [] and mailgun_mock.deliveries == []


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.eml")), ids=lambda p: p.name)
def test_every_fixture_goes_through_the_pipeline(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                 path: pathlib.Path) -> None:
    """Every sample email is routed, forwarded (parsed and raw) and stored without an error."""
    receiver.expect_request("/parsed").respond_with_data("ok")
    receiver.expect_request("/mime").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for("/parsed")}")',
          f'forward("{receiver.url_for("/mime")}")', "store()")
    answer = mailgun_mock.inject(path.read_bytes(), recipients=["replay@example.com"])
    storage = answer["recipients"][0]["actions"][-1]["storage"]
    assert {r.path for r, _ in receiver.log} == {"/parsed", "/mime"}
    assert all(a["outcome"] == "delivered" for a in mailgun_mock.deliveries)
    stored = mailgun_mock.stored_message(storage["url"])
    assert stored["recipients"] == "replay@example.com"


def test_public_url_is_the_base_of_storage_urls() -> None:
    """With public_url set, storage URLs and message-url are built on it rather than the bound address."""
    with MailgunMock(public_url="https://mail.example.test/mg/") as mock:
        mock.backend.create_route("catch_all()", ["store()"])
        url = mock.inject(sample_message())["recipients"][0]["actions"][0]["storage"]["url"]
        assert url.startswith("https://mail.example.test/mg/v3/domains/example.com/messages/")
        assert mock.stored_message(url)["subject"] == "Re: Order 4711"


def test_custom_retry_schedule_and_reset_drops_pending_retries(receiver: HTTPServer) -> None:
    """A configured schedule sets the retry times; reset() forgets retries still pending."""
    receiver.expect_request("/down").respond_with_data("no", status=503)
    with MailgunMock(retry_schedule=(5, 50)) as mock:
        mock.backend.create_route("catch_all()", [f'forward("{receiver.url_for("/down")}")'])
        mock.inject(sample_message())
        mock.advance_clock(60)
        assert [(a["attempt"], a["outcome"]) for a in mock.deliveries] == [(1, "retrying"), (2, "retrying"), (3, "failed")]
        assert [a["scheduled_at"] - mock.deliveries[0]["scheduled_at"] for a in mock.deliveries] == [0, 5, 55]
        mock.inject(sample_message())
        mock.reset()
        mock.advance_clock(3600)
        assert mock.deliveries == [] and mock.backend.delivery.pending() == 0


@pytest.mark.parametrize("name", ["rfc2047-utf8.eml", "rfc2047-latin1.eml", "cjk-iso2022jp.eml"])
def test_forward_decodes_non_ascii_headers_and_bodies(mailgun_mock: MailgunMock, receiver: HTTPServer, name: str) -> None:
    """Encoded subjects, names and bodies in any charset arrive decoded to UTF-8, as the stdlib reads them."""
    import email
    from email import policy

    receiver.expect_request("/inbound").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for("/inbound")}")')
    raw = (FIXTURES / name).read_bytes()
    mailgun_mock.inject(raw, recipients=["intl@example.com"])
    reference = email.message_from_bytes(raw, policy=policy.default)
    (request, _), = receiver.log
    fields = dict(form_of(request))
    assert fields["subject"] == str(reference["Subject"]) and not fields["subject"].isascii()
    assert fields["Subject"] == fields["subject"]
    expected_from = email.utils.getaddresses([str(reference["From"])])
    assert email.utils.getaddresses([fields["from"]]) == expected_from
    text = reference.get_body(("plain",))
    assert text is not None
    body = text.get_content().replace("\r\n", "\n").strip()
    assert body.splitlines()[0] in fields["body-plain"]
    assert not fields["body-plain"].isascii()


def test_domain_restriction_refuses_other_domains() -> None:
    """With domains set, mail to other domains is refused and their events and messages are 404."""
    with MailgunMock(domains=("example.com",)) as mock:
        mock.backend.create_route("catch_all()", ["store()"])
        assert mock.inject(sample_message())["recipients"][0]["recipient"] == "support@example.com"
        from mailgun_mock.base.errors import BadRequest

        with pytest.raises(BadRequest, match="Domain not found: other.org"):
            mock.inject(sample_message(), recipients=["x@other.org"])
        auth = ("api", mock.api_key)
        reply = requests.get(f"{mock.url}/v3/other.org/events", auth=auth, timeout=5)
        assert (reply.status_code, reply.json()) == (404, {"message": "Domain not found: other.org"})
        assert requests.get(f"{mock.url}/v3/example.com/events", auth=auth, timeout=5).status_code == 200


def test_caps_evict_the_oldest_and_health_counts_them() -> None:
    """Past max_stored_messages and max_events the oldest go first, and /mock/health says how many."""
    with MailgunMock(max_stored_messages=3, max_events=4) as mock:
        mock.create_route("catch_all()", "store()")
        urls = [mock.inject(sample_message())["recipients"][0]["actions"][0]["storage"]["url"] for _ in range(5)]
        auth = ("api", mock.api_key)
        assert [requests.get(u, auth=auth, timeout=5).status_code for u in urls] == [404, 404, 200, 200, 200]
        health = requests.get(f"{mock.url}/mock/health", timeout=5).json()
        assert health["stored_messages"] == 3 and health["events"] == 4
        assert health["evicted"] == {"messages": 2, "events": 6}
        kept = requests.get(f"{mock.url}/v3/example.com/events", auth=auth, timeout=5).json()["items"]
        assert len(kept) == 4


def test_too_many_headers_is_refused() -> None:
    """A message with more header lines than max_headers is a 400 saying so, and nothing is kept."""
    from mailgun_mock.base.errors import BadRequest

    with MailgunMock(max_headers=50) as mock:
        mock.create_route("catch_all()", "store()")
        raw = b"From: a@example.net\r\nTo: b@example.com\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(60)) + b"\r\nx"
        with pytest.raises(BadRequest, match="the message has 62 header lines, more than the 50 allowed"):
            mock.inject(raw)
        assert mock.backend.store.messages() == [] and mock.events == []
