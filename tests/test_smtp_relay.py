"""The SMTP relay (submission listener): real smtplib clients and raw sockets against a mock on 127.0.0.1.

What comes out must be what ``POST /v3/<domain>/messages.mime`` makes of the same bytes: the same
stored copy, the same events (but ``method: smtp``), the same webhooks.
"""

from __future__ import annotations

import base64
import json
import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer

from mailgun_mock import MailgunMock
from mailgun_mock.edges.service import ListenError

DOMAIN = "mg.example.com"
OTHER = "other.example.com"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"


@pytest.fixture(scope="module")
def relay_server() -> Iterator[MailgunMock]:
    """A mock with the relay on a free port, serving two domains."""
    with MailgunMock(smtp_submission_port=0, domains=(DOMAIN, OTHER)) as mock:
        yield mock


@pytest.fixture
def relay(relay_server: MailgunMock) -> Iterator[MailgunMock]:
    """The module's relay mock, reset before the test and checked for internal errors after it."""
    relay_server.reset()
    yield relay_server
    relay_server.raise_errors()


def client(mock: MailgunMock) -> smtplib.SMTP:
    assert mock.smtp_submission_port is not None
    return smtplib.SMTP("127.0.0.1", mock.smtp_submission_port, local_hostname="client.test", timeout=10)


def welcome(*extra: tuple[str, str]) -> bytes:
    """A message with a tag, variables, tracking turned off and a PDF, as an application builds it."""
    msg = EmailMessage()
    msg["From"] = f"App <app@{DOMAIN}>"
    msg["To"] = "Ann <ann@example.net>"
    msg["Subject"] = "Welcome aboard"
    msg["Message-Id"] = make_msgid(domain=DOMAIN)
    msg["X-Mailgun-Tag"] = "welcome"
    msg["X-Mailgun-Tag"] = "onboarding"
    msg["X-Mailgun-Variables"] = json.dumps({"user-id": "42"})
    msg["X-Mailgun-Track-Clicks"] = "no"
    for name, value in extra:
        msg[name] = value
    msg.set_content("Hi Ann")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="report.pdf")
    return msg.as_bytes(policy=SMTP_POLICY)


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs between two sends (ids, times, storage, method)."""
    return {k: v for k, v in event.items() if k not in ("id", "timestamp", "storage", "method")}


def body_mime(mock: MailgunMock, event: dict[str, Any]) -> bytes:
    reply = mock.session.get(event["storage"]["url"], headers={"Accept": "message/rfc2822"}, timeout=10)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["body-mime"]).encode("utf-8")


def test_relay_smtplib_login_send_matches_messages_mime(relay: MailgunMock, httpserver: HTTPServer) -> None:
    """smtplib login() and sendmail: outbox, events, a delivered webhook, and what messages.mime makes of the same bytes."""
    httpserver.expect_request("/hooks").respond_with_data("ok")
    hook = relay.session.post(f"{relay.url}/v3/domains/{DOMAIN}/webhooks",
                              data={"id": "delivered", "url": httpserver.url_for("/hooks")}, timeout=10)
    assert hook.status_code == 200, hook.text
    raw = welcome()
    rcpts = ["ann@example.net", "audit@example.org"]  # the second only in the envelope: a Bcc
    with client(relay) as smtp:
        smtp.login(f"postmaster@{DOMAIN}", relay.smtp_password)
        assert smtp.sendmail(f"app@{DOMAIN}", rcpts, raw) == {}
        code, reply = smtp.noop()
    assert code == 250

    (sent,) = relay.assert_sent(1, to="audit@example.org", tag="onboarding", subject="Welcome aboard")
    assert sent["recipients"] == rcpts and sent["tags"] == ["welcome", "onboarding"]
    assert sent["attachments"] == ["report.pdf"] and sent["text"].strip() == "Hi Ann"
    relay.settle()
    attempts = relay.wait_for_deliveries(2, outcome="delivered")  # one per recipient's delivered event
    assert {a["url"] for a in attempts} == {httpserver.url_for("/hooks")}
    posted = [json.loads(request.get_data()) for request, _ in httpserver.log]
    hooked = [p["event-data"] for p in posted]
    assert {(e["event"], e["recipient"]) for e in hooked} == {("delivered", r) for r in rcpts}
    assert hooked[0]["tags"] == ["welcome", "onboarding"] and hooked[0]["user-variables"] == {"user-id": "42"}

    over_http = relay.session.post(f"{relay.url}/v3/{DOMAIN}/messages.mime", data={"to": rcpts},
                                   files={"message": ("message.eml", raw, "message/rfc822")}, timeout=10)
    assert over_http.status_code == 200, over_http.text
    relay.settle()
    accepted = [e for e in relay.events if e["event"] == "accepted"]
    assert [e["method"] for e in accepted] == ["smtp", "smtp", "http", "http"]
    assert [comparable(e) for e in accepted[:2]] == [comparable(e) for e in accepted[2:]]
    delivered_events = [comparable(e) for e in relay.events if e["event"] == "delivered"]
    # Each recipient's delivery step runs on a lane thread of its own: within one send, in either order.
    by_recipient = [sorted(pair, key=lambda e: e["recipient"]) for pair in (delivered_events[:2], delivered_events[2:])]
    assert by_recipient[0] == by_recipient[1]
    relayed, posted_copy = body_mime(relay, accepted[0]), body_mime(relay, accepted[2])
    assert relayed == posted_copy == raw.replace(b"X-Mailgun-Track-Clicks: no\r\n", b"")


def test_relay_auth_login_mechanism_and_api_credentials(relay: MailgunMock) -> None:
    """AUTH LOGIN works too, and a credential made through the credentials API logs in for its domain."""
    made = relay.session.post(f"{relay.url}/v3/domains/{OTHER}/credentials",
                              data={"login": f"alice@{OTHER}", "password": "s3cret-pass"}, timeout=10)
    assert made.status_code == 200, made.text
    with client(relay) as smtp:
        smtp.ehlo()
        code, _ = smtp.docmd("AUTH", "LOGIN " + base64.b64encode(f"alice@{OTHER}".encode()).decode())
        assert code == 334
        code, reply = smtp.docmd(base64.b64encode(b"s3cret-pass").decode())
        assert (code, reply) == (235, b"2.7.0 Authentication successful")
        smtp.sendmail(f"alice@{OTHER}", ["bob@example.net"], welcome())
    (accepted,) = [e for e in relay.events if e["event"] == "accepted"]
    assert accepted["method"] == "smtp"
    assert relay.outbox[0]["domain"] == OTHER


@pytest.mark.parametrize(("login", "password", "reply"), [
    (f"postmaster@{DOMAIN}", "wrong-password", b"5.7.0 Mailgun is not loving your login or password"),
    ("postmaster", "anything", b"5.7.0 Mailgun is not loving your login or password"),
    (f"alice@{DOMAIN}", "s3cret-pass", b"5.7.0 Mailgun is not loving your login or password"),
    ("postmaster@unknown.example", "mailgunmock-smtp-0000", b"5.7.8 Domain not found: unknown.example"),
])
def test_relay_refuses_bad_logins(relay: MailgunMock, login: str, password: str, reply: bytes) -> None:
    """A wrong password, a login without a domain, another domain's credential and an unknown domain get 535."""
    relay.session.post(f"{relay.url}/v3/domains/{OTHER}/credentials",
                       data={"login": f"alice@{OTHER}", "password": "s3cret-pass"}, timeout=10)
    with client(relay) as smtp, pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        smtp.login(login, password)
    assert (caught.value.smtp_code, caught.value.smtp_error) == (535, reply)


def test_relay_requires_auth_before_mail(relay: MailgunMock) -> None:
    """MAIL FROM before AUTH is refused with 530, and nothing is sent."""
    with client(relay) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["auth"].split() == ["LOGIN", "PLAIN"]
        with pytest.raises(smtplib.SMTPSenderRefused) as caught:
            smtp.sendmail(f"app@{DOMAIN}", ["bob@example.net"], welcome())
    assert (caught.value.smtp_code, caught.value.smtp_error) == (530, b"5.7.0 Authentication required")
    assert relay.outbox == []


def test_relay_refuses_invalid_mailgun_header_with_the_reason(relay: MailgunMock) -> None:
    """An invalid X-Mailgun-* value is refused at DATA with 554 and the reason; nothing is kept."""
    with client(relay) as smtp:
        smtp.login(f"postmaster@{DOMAIN}", relay.smtp_password)
        with pytest.raises(smtplib.SMTPDataError) as caught:
            smtp.sendmail(f"app@{DOMAIN}", ["bob@example.net"], welcome(("X-Mailgun-Drop-Message", "perhaps")))
    assert caught.value.smtp_code == 554
    assert caught.value.smtp_error == (b"5.6.0 'X-Mailgun-Drop-Message' header value 'perhaps' is not valid: "
                                       b"use yes, no, true or false")
    assert relay.outbox == [] and relay.events == []


def test_relay_reject_rule_and_test_mode(relay: MailgunMock) -> None:
    """A reject rule answers 550 with its message; X-Mailgun-Drop-Message sends in test mode (delivered, code 650)."""
    rule = relay.session.post(f"{relay.url}/mock/rules", timeout=10, json={
        "match": {"recipient": "^blocked@"}, "outcome": "reject", "status": 403, "message": "Recipient blocked"})
    assert rule.status_code == 200, rule.text
    with client(relay) as smtp:
        smtp.login(f"postmaster@{DOMAIN}", relay.smtp_password)
        with pytest.raises(smtplib.SMTPDataError) as caught:
            smtp.sendmail(f"app@{DOMAIN}", ["blocked@example.net"], welcome())
        assert (caught.value.smtp_code, caught.value.smtp_error) == (550, b"5.7.1 Recipient blocked")
        smtp.sendmail(f"app@{DOMAIN}", ["ann@example.net"], welcome(("X-Mailgun-Drop-Message", "yes")))
    relay.advance_clock(3600)
    logged = [(e["event"], e["flags"]["is-test-mode"], e.get("delivery-status", {}).get("code")) for e in relay.events]
    assert logged == [("accepted", True, None), ("delivered", True, 650)]


def test_relay_limits_recipients_and_size(relay_server: MailgunMock) -> None:
    """The 1001st RCPT TO gets 452 (the rest goes through), a SIZE= over the limit 552."""
    relay_server.reset()
    with client(relay_server) as smtp:
        smtp.login(f"postmaster@{DOMAIN}", relay_server.smtp_password)
        refused = smtp.sendmail(f"app@{DOMAIN}", [f"r{n}@example.net" for n in range(1001)], welcome())
        assert refused == {"r1000@example.net": (452, b"4.5.3 Too many recipients, max is 1000")}
        with pytest.raises(smtplib.SMTPSenderRefused) as caught:
            smtp.sendmail(f"app@{DOMAIN}", ["ann@example.net"], welcome(), mail_options=["SIZE=30000000"])
        assert caught.value.smtp_code == 552
    (sent,) = relay_server.outbox
    assert len(sent["recipients"]) == 1000


def test_relay_disconnect_mid_data_sends_nothing(relay: MailgunMock) -> None:
    """A client that drops the connection inside DATA leaves nothing sent, and the relay keeps serving."""
    assert relay.smtp_submission_port is not None
    token = base64.b64encode(f"\0postmaster@{DOMAIN}\0{relay.smtp_password}".encode()).decode()
    with socket.create_connection(("127.0.0.1", relay.smtp_submission_port), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        for line in ("EHLO client.test", f"AUTH PLAIN {token}", f"MAIL FROM:<app@{DOMAIN}>",
                     "RCPT TO:<ann@example.net>", "DATA"):
            sock.sendall(line.encode() + b"\r\n")
            reply = reader.readline()
            while reply[3:4] == b"-":
                reply = reader.readline()
            assert reply[:1] in (b"2", b"3"), reply
        sock.sendall(welcome()[:200])
    with client(relay) as smtp:  # a later session works, and its NOOP comes after the dropped one's end
        smtp.login(f"postmaster@{DOMAIN}", relay.smtp_password)
        assert smtp.noop()[0] == 250
    assert relay.outbox == [] and relay.events == []


def test_inbound_listener_unchanged_beside_the_relay() -> None:
    """With both listeners, the inbound port still takes mail without AUTH and routes it; the relay is separate."""
    with MailgunMock(smtp_port=0, smtp_submission_port=0) as mock:
        assert mock.smtp_port and mock.smtp_submission_port and mock.smtp_port != mock.smtp_submission_port
        mock.create_route("catch_all()", "store()")
        with smtplib.SMTP("127.0.0.1", mock.smtp_port, local_hostname="client.test", timeout=10) as smtp:
            assert smtp.sendmail("bob@example.net", ["support@example.com"], welcome()) == {}
        assert [e["event"] for e in mock.events] == ["accepted", "stored"]
        assert mock.outbox == []



def test_relay_busy_port_names_the_listener(relay: MailgunMock) -> None:
    """A relay port already in use fails the start with a ListenError naming the SMTP relay, and nothing keeps serving."""
    with pytest.raises(ListenError) as caught:
        MailgunMock(smtp_port=0, smtp_submission_port=relay.smtp_submission_port).start()
    assert caught.value.listener == "SMTP relay" and caught.value.port == relay.smtp_submission_port
    assert "cannot listen for SMTP relay on 127.0.0.1:" in str(caught.value)


def test_relay_health_reports_its_port_and_no_password(relay: MailgunMock) -> None:
    """GET /mock/health (no key) names the relay's port and shows no SMTP password."""
    reply = requests.get(f"{relay.url}/mock/health", timeout=10)
    assert reply.status_code == 200
    assert reply.json()["smtp_submission"] == {"port": relay.smtp_submission_port, "tls_port": None,
                                               "starttls": False}
    assert relay.smtp_password not in reply.text
    with MailgunMock() as plain:
        assert requests.get(f"{plain.url}/mock/health", timeout=10).json()["smtp_submission"] is None
