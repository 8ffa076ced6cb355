"""Backend.send_relay: a message submitted over SMTP is sent the way messages.mime sends the same MIME."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import pytest

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.base.errors import BadRequest, NotFound, PayloadTooLarge
from mailgun_mock.mail.parse import ParsedMessage
from mailgun_mock.sending.outbox import RuleRejection

DOMAIN = "mg.example.com"


@pytest.fixture
def backend() -> Iterator[Backend]:
    """A backend of its own (its delivery thread stopped afterwards)."""
    made = Backend(Config())
    yield made
    made.close()


def mime(*headers: str, body: str = "Hello %recipient.name%\r\n", to: str = "Ann <ann@example.net>") -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return (f"From: Bob <bob@{DOMAIN}>\r\nTo: {to}\r\nSubject: Hi\r\nMessage-Id: <m1@{DOMAIN}>\r\n{head}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs from one send to the next (ids, times, storage keys)."""
    return {k: v for k, v in event.items() if k not in ("id", "timestamp", "storage")}


def test_send_relay_matches_messages_mime_for_the_same_bytes(backend: Backend) -> None:
    """The same MIME through the relay and messages.mime: the same stored copy and events, but method smtp."""
    raw = mime("X-Mailgun-Tag: welcome", "X-Mailgun-Variables: {\"uid\": 7}", "X-Mailgun-Track: no")
    rcpts = ["ann@example.net", "hidden@example.org"]
    relayed = backend.send_relay(DOMAIN, raw, f"bob@{DOMAIN}", rcpts)
    over_http = backend.send_mime(DOMAIN, {"to": rcpts}, [("message", "m.eml", raw, "message/rfc822")],
                                  "multipart/form-data; boundary=x")
    assert relayed == over_http == {"id": f"<m1@{DOMAIN}>", "message": "Queued. Thank you."}
    first, second = backend.store.messages()
    assert first.raw == second.raw == raw.replace(b"X-Mailgun-Track: no\r\n", b"")
    assert first.recipients == second.recipients == tuple(rcpts)
    events = [comparable(e) for e in backend.store.all_events() if e["event"] == "accepted"]
    assert [e.pop("method") for e in events] == ["smtp", "smtp", "http", "http"]
    assert events[:2] == events[2:]
    assert events[0]["tags"] == ["welcome"] and events[0]["user-variables"] == {"uid": 7}


def test_send_relay_envelope_sender_and_null_sender(backend: Backend) -> None:
    """MAIL FROM is the envelope sender; the null sender falls back to the From address."""
    backend.send_relay(DOMAIN, mime(), "bounces@example.org", ["ann@example.net"])
    backend.send_relay(DOMAIN, mime(), "", ["ann@example.net"])
    senders = [e["envelope"]["sender"] for e in backend.store.all_events() if e["event"] == "accepted"]
    assert senders == ["bounces@example.org", f"bob@{DOMAIN}"]


def test_send_relay_drop_message_is_test_mode(backend: Backend) -> None:
    """X-Mailgun-Drop-Message: yes is test mode: accepted, then delivered with code 650, both flagged."""
    backend.send_relay(DOMAIN, mime("X-Mailgun-Drop-Message: yes"), "", ["ann@example.net"])
    backend.advance_clock(3600)
    events = backend.store.all_events()
    assert [(e["event"], e["flags"]["is-test-mode"]) for e in events] == [("accepted", True), ("delivered", True)]
    assert events[1]["delivery-status"]["code"] == 650


def test_send_relay_deliver_by_schedules_delivery(backend: Backend) -> None:
    """X-Mailgun-Deliver-By holds delivery until that time on the mock's clock."""
    when = backend.clock.now() + 7200
    backend.send_relay(DOMAIN, mime(f"X-Mailgun-Deliver-By: {formatdate(when)}"), "", ["ann@example.net"])
    backend.advance_clock(3600)
    assert [e["event"] for e in backend.store.all_events()] == ["accepted"]
    backend.advance_clock(3700)
    assert [e["event"] for e in backend.store.all_events()] == ["accepted", "delivered"]


def test_send_relay_tracking_headers_gate_engagement(backend: Backend) -> None:
    """X-Mailgun-Track-Opens: no keeps a rule's open from being recorded; clicks still are."""
    backend.create_rule({"match": {"recipient": "ann@"}, "outcome": ["open", "click"]})
    raw = mime("X-Mailgun-Track-Opens: no", "Content-Type: text/html", body='<a href="https://x.test/a">a</a>')
    backend.send_relay(DOMAIN, raw, "", ["ann@example.net"])
    backend.advance_clock(24 * 3600)
    assert [e["event"] for e in backend.store.all_events()] == ["accepted", "delivered", "clicked"]


def test_send_relay_sending_ip_reaches_the_envelope(backend: Backend) -> None:
    """X-Mailgun-Sending-Ip is the delivered event's envelope sending-ip."""
    backend.send_relay(DOMAIN, mime("X-Mailgun-Sending-Ip: 192.0.2.10"), "", ["ann@example.net"])
    backend.advance_clock(60)
    (delivered,) = [e for e in backend.store.all_events() if e["event"] == "delivered"]
    assert delivered["envelope"]["sending-ip"] == "192.0.2.10"


def test_send_relay_recipient_variables_make_one_copy_each(backend: Backend) -> None:
    """X-Mailgun-Recipient-Variables: a copy per recipient, placeholders filled, the header gone."""
    variables = {"ann@example.net": {"name": "Ann"}, "cy@example.net": {"name": "Cy"}}
    raw = mime(f"X-Mailgun-Recipient-Variables: {json.dumps(variables)}", to="Ann <ann@example.net>, cy@example.net")
    backend.send_relay(DOMAIN, raw, "", ["ann@example.net", "cy@example.net", "bcc@example.org"])
    copies = {m.recipients[0]: ParsedMessage(m.raw) for m in backend.store.messages()}
    assert {r: (c.header("To"), c.body_plain.strip()) for r, c in copies.items()} == {
        "ann@example.net": ("Ann <ann@example.net>", "Hello Ann"), "cy@example.net": ("cy@example.net", "Hello Cy"),
        "bcc@example.org": ("undisclosed-recipients:;", "Hello")}
    assert all(not c.header("X-Mailgun-Recipient-Variables") for c in copies.values())


def test_send_relay_renders_a_template(backend: Backend) -> None:
    """X-Mailgun-Template-Name/-Version/-Variables render the template as the HTML body beside the text part."""
    backend.create_template(DOMAIN, {"name": "welcome", "template": "<p>v1 {{name}}</p>", "tag": "v1"})
    backend.create_version(DOMAIN, "welcome", {"template": "<p>v2 {{name}}</p>", "tag": "v2"})
    raw = mime("X-Mailgun-Template-Name: Welcome", "X-Mailgun-Template-Version: v2",
               "X-Mailgun-Template-Variables: {\"name\": \"Ann\"}", body="plain text\r\n")
    backend.send_relay(DOMAIN, raw, "", ["ann@example.net"])
    (kept,) = backend.store.messages()
    sent = ParsedMessage(kept.raw)
    assert (sent.body_html.strip(), sent.body_plain.strip()) == ("<p>v2 Ann</p>", "plain text")
    assert sent.header("X-Mailgun-Template-Name") == "welcome"
    assert sent.header("X-Mailgun-Template-Variables") == '{"name": "Ann"}'
    assert not sent.header("X-Mailgun-Template-Version")
    assert sent.message_id == f"<m1@{DOMAIN}>" and sent.subject == "Hi"


def test_send_relay_unknown_template_is_refused(backend: Backend) -> None:
    """A template the domain does not have gets the HTTP API's message, and nothing is sent."""
    with pytest.raises(BadRequest, match="template 'nope' not found"):
        backend.send_relay(DOMAIN, mime("X-Mailgun-Template-Name: nope"), "", ["ann@example.net"])
    assert backend.store.sent() == [] and backend.store.all_events() == []


def test_send_relay_expands_a_mailing_list(backend: Backend) -> None:
    """RCPT TO a mailing list's address sends to each subscribed member."""
    backend.create_list({"address": f"team@{DOMAIN}"})
    for member in ("a@example.net", "b@example.net"):
        backend.create_member(f"team@{DOMAIN}", {"address": member})
    backend.send_relay(DOMAIN, mime(to=f"team@{DOMAIN}"), "", [f"team@{DOMAIN}"])
    assert sorted(m.recipients[0] for m in backend.store.messages()) == ["a@example.net", "b@example.net"]


def test_send_relay_limits_and_refusals(backend: Backend) -> None:
    """Too many recipients, an oversize message, an invalid header and a reject rule: refused, nothing kept."""
    with pytest.raises(BadRequest, match="Too many recipients, max is 1000"):
        backend.send_relay(DOMAIN, mime(), "", [f"r{n}@example.net" for n in range(1001)])
    small = Backend(Config(max_message_size=100))
    try:
        with pytest.raises(PayloadTooLarge):
            small.send_relay(DOMAIN, mime(body="x" * 200), "", ["ann@example.net"])
    finally:
        small.close()
    with pytest.raises(BadRequest, match="'X-Mailgun-Track' header value 'sometimes' is not valid"):
        backend.send_relay(DOMAIN, mime("X-Mailgun-Track: sometimes"), "", ["ann@example.net"])
    with pytest.raises(BadRequest, match="is not an RFC-2822 compliant date"):
        backend.send_relay(DOMAIN, mime("X-Mailgun-Deliver-By: tomorrow"), "", ["ann@example.net"])
    backend.create_rule({"match": {"recipient": "^ann@"}, "outcome": "reject", "status": 403, "message": "no"})
    with pytest.raises(RuleRejection, match="no"):
        backend.send_relay(DOMAIN, mime(), "", ["ann@example.net"])
    assert backend.store.sent() == [] and backend.store.all_events() == []


def test_send_relay_unknown_domain_is_not_found() -> None:
    """With --domain set, a domain outside it is Domain not found, as over HTTP."""
    backend = Backend(Config(domains=("mg.example.com",)))
    try:
        with pytest.raises(NotFound, match="Domain not found: other.example"):
            backend.send_relay("other.example", mime(), "", ["ann@example.net"])
    finally:
        backend.close()


def test_resend_does_not_render_a_template_again(backend: Backend) -> None:
    """A stored templated copy resent keeps its body: its X-Mailgun-Template-Name is a record, not a request."""
    backend.create_template(DOMAIN, {"name": "welcome", "template": "<p>{{name}}</p>", "tag": "v1"})
    backend.send_relay(DOMAIN, mime("X-Mailgun-Template-Name: welcome", "X-Mailgun-Template-Variables: {\"name\": \"A\"}"),
                       "", ["ann@example.net"])
    (kept,) = backend.store.messages()
    backend.delete_template(DOMAIN, "welcome")
    backend.resend_message(DOMAIN, kept.key, ["cy@example.net"])
    assert [ParsedMessage(m.raw).body_html.strip() for m in backend.store.messages()] == ["<p>A</p>", "<p>A</p>"]
