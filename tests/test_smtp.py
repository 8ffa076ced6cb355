"""The SMTP listener: real smtplib clients against a real listener on 127.0.0.1, routed by envelope."""

from __future__ import annotations

import concurrent.futures
import gc
import logging
import smtplib
import socket
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

import pytest

from mailgun_mock import MailgunMock
from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.edges.smtp import SmtpListener


@pytest.fixture
def listener(mailgun_mock: MailgunMock) -> Iterator[SmtpListener]:
    """An SMTP listener on a free port feeding the session's (reset) mock."""
    with SmtpListener(mailgun_mock.backend, "127.0.0.1", 0) as smtp:
        yield smtp


@pytest.fixture
def listener_for() -> Iterator[Callable[[Config], SmtpListener]]:
    """Starts a listener on a backend of its own, built from the config given; cleans both up."""
    made: list[tuple[SmtpListener, Backend]] = []

    def make(config: Config) -> SmtpListener:
        backend = Backend(config)
        made.append((SmtpListener(backend, "127.0.0.1", 0).start(), backend))
        return made[-1][0]

    yield make
    for smtp, backend in made:
        smtp.stop()
        backend.close()


def client(smtp: SmtpListener) -> smtplib.SMTP:
    # A fixed local_hostname spares smtplib a getfqdn() lookup per connection.
    return smtplib.SMTP("127.0.0.1", smtp.port, local_hostname="client.test", timeout=10)


def message(to: str = "support@example.com", subject: str = "Order 4711", body: str = "Where is my order?\n") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Bob <bob@example.net>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg.as_bytes(policy=SMTP_POLICY)  # CRLF, as a mail client puts it on the wire


def store_route(backend: Backend, expression: str = "catch_all()") -> str:
    return backend.create_route(expression, ["store()"]).id


def stored(backend: Backend) -> dict[str, tuple[str, bytes]]:
    """The stored messages by recipient: (envelope sender, raw bytes)."""
    found = {}
    for kept in backend.store.messages():
        (rcpt,) = kept.recipients
        found[rcpt] = (kept.sender, kept.raw)
    return found


def test_smtp_routes_by_envelope_not_headers(mailgun_mock: MailgunMock, listener: SmtpListener) -> None:
    """The envelope's RCPT TO and MAIL FROM, not the To and From headers, are the stored recipient and sender."""
    store_route(mailgun_mock.backend, 'match_recipient("support@example.com")')
    with client(listener) as smtp:
        refused = smtp.sendmail("bounces@example.net", ["support@example.com"], message(to="someone@example.org"))
    assert refused == {}
    (kept,) = mailgun_mock.backend.store.messages()
    as_json = mailgun_mock.stored_message(kept.key)
    assert as_json["recipients"] == "support@example.com"
    assert as_json["sender"] == "bounces@example.net"
    assert as_json["To"] == "someone@example.org" and as_json["from"] == "Bob <bob@example.net>"


def test_smtp_routes_bcc_recipient(mailgun_mock: MailgunMock, listener: SmtpListener) -> None:
    """An envelope recipient absent from every header (a Bcc) is routed like the others."""
    store_route(mailgun_mock.backend, 'match_recipient("hidden@example.com")')
    with client(listener) as smtp:
        smtp.sendmail("bob@example.net", ["support@example.com", "hidden@example.com"], message())
    assert list(stored(mailgun_mock.backend)) == ["hidden@example.com"]
    accepted = [e["recipient"] for e in mailgun_mock.events if e["event"] == "accepted"]
    assert accepted == ["hidden@example.com"]


def test_smtp_routes_every_rcpt_to(mailgun_mock: MailgunMock, listener: SmtpListener) -> None:
    """Several RCPT TO in one transaction run the routes once per recipient."""
    store_route(mailgun_mock.backend)
    rcpts = ["a@example.com", "b@example.com", "c@example.org"]
    with client(listener) as smtp:
        assert smtp.sendmail("bob@example.net", rcpts, message()) == {}
    assert sorted(stored(mailgun_mock.backend)) == rcpts
    assert sorted(e["recipient"] for e in mailgun_mock.events if e["event"] == "accepted") == rcpts


def test_smtp_null_sender_is_kept_empty(mailgun_mock: MailgunMock, listener: SmtpListener) -> None:
    """MAIL FROM:<> (a bounce) is accepted and stored with an empty envelope sender, not the From header."""
    store_route(mailgun_mock.backend)
    with client(listener) as smtp:
        assert smtp.sendmail("<>", ["support@example.com"], message()) == {}
    assert stored(mailgun_mock.backend)["support@example.com"][0] == ""


def test_smtp_keeps_8bit_and_utf8_bytes(mailgun_mock: MailgunMock, listener: SmtpListener) -> None:
    """UTF-8 headers, raw 8-bit body bytes and dot-led lines arrive byte for byte, with a UTF-8 envelope."""
    store_route(mailgun_mock.backend)
    raw = (
        "From: Zoë <zoë@example.net>\r\nTo: josé@example.com\r\nSubject: Grüße ☃\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Grüße, 日本語\r\n.a line that starts with a dot\r\n..and two\r\n"
    ).encode("utf-8") + b"latin-1 in a utf-8 part: caf\xe9\r\n"
    with client(listener) as smtp:
        smtp.sendmail("zoë@example.net", ["josé@example.com"], raw, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    assert stored(mailgun_mock.backend) == {"josé@example.com": ("zoë@example.net", raw)}


def test_smtp_ehlo_advertises_size_8bitmime_smtputf8(listener_for: Callable[[Config], SmtpListener]) -> None:
    """EHLO advertises SIZE with the configured maximum, 8BITMIME and SMTPUTF8."""
    smtp_listener = listener_for(Config(max_message_size=12345))
    with client(smtp_listener) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["size"] == "12345"
        assert "8bitmime" in smtp.esmtp_features and "smtputf8" in smtp.esmtp_features


def test_smtp_refuses_oversize_at_mail_from(listener_for: Callable[[Config], SmtpListener]) -> None:
    """A message over max_message_size is refused with 552 when MAIL FROM declares its SIZE, and not kept."""
    smtp_listener = listener_for(Config(max_message_size=2000))
    store_route(smtp_listener.backend)
    with client(smtp_listener) as smtp, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        smtp.sendmail("bob@example.net", ["support@example.com"], message(body=("x" * 70 + "\n") * 40))
    assert refused.value.smtp_code == 552
    assert smtp_listener.backend.store.messages() == [] and smtp_listener.backend.store.all_events() == []


def test_smtp_refuses_oversize_in_data(listener_for: Callable[[Config], SmtpListener]) -> None:
    """A message over max_message_size sent without SIZE is refused with 552 at DATA, not kept, and the
    connection goes on."""
    smtp_listener = listener_for(Config(max_message_size=2000))
    store_route(smtp_listener.backend)
    with client(smtp_listener) as smtp:
        smtp.ehlo()
        smtp.mail("bob@example.net")
        smtp.rcpt("support@example.com")
        code, _ = smtp.data(message(body=("x" * 70 + "\n") * 40))
        assert code == 552
        assert smtp.sendmail("bob@example.net", ["support@example.com"], message()) == {}
    assert len(smtp_listener.backend.store.messages()) == 1


def test_smtp_refuses_unserved_domain_at_rcpt(listener_for: Callable[[Config], SmtpListener]) -> None:
    """RCPT TO a domain outside Config.domains gets 550 5.1.1; the served recipients still get the message."""
    smtp_listener = listener_for(Config(domains=("example.com",)))
    store_route(smtp_listener.backend)
    with client(smtp_listener) as smtp:
        refused = smtp.sendmail("bob@example.net", ["support@example.com", "x@other.org"], message())
        assert refused == {"x@other.org": (550, b"5.1.1 <x@other.org>: domain not served by this mock")}
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("bob@example.net", ["x@other.org"], message())
    assert list(stored(smtp_listener.backend)) == ["support@example.com"]


@pytest.mark.parametrize("address", ["not-an-address", "a b@example.com", "<>"])
def test_smtp_refuses_non_address_recipient(listener: SmtpListener, address: str) -> None:
    """RCPT TO something that is not an email address gets 501 5.1.3."""
    with client(listener) as smtp:
        smtp.ehlo()
        smtp.mail("bob@example.net")
        code, text = smtp.rcpt(address)
    assert code == 501 and text.startswith(b"5.1.3 <") and text.endswith(b">: not an email address")


def test_smtp_bad_request_becomes_554(mailgun_mock: MailgunMock, listener: SmtpListener) -> None:
    """A message the backend refuses (BadRequest) gets a 554 reply carrying the backend's message."""
    with client(listener) as smtp:
        smtp.ehlo()
        smtp.mail("bob@example.net")
        smtp.rcpt("support@example.com")
        assert smtp.data(b"\r\n") == (554, b"5.6.0 the message is empty")


def test_smtp_unexpected_error_answers_451_and_keeps_serving(
    mailgun_mock: MailgunMock, listener: SmtpListener, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected backend error answers 451 4.3.0 and is logged with its traceback; the next message goes through."""
    store_route(mailgun_mock.backend)

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    with client(listener) as smtp:
        with monkeypatch.context() as patch:
            patch.setattr(mailgun_mock.backend, "receive_inbound", broken)
            with pytest.raises(smtplib.SMTPDataError) as failed:
                smtp.sendmail("bob@example.net", ["support@example.com"], message())
        assert failed.value.smtp_code == 451
        assert failed.value.smtp_error == b"4.3.0 Internal error in the mock, see its log; try again later"
        assert smtp.sendmail("bob@example.net", ["support@example.com"], message()) == {}
    (record,) = [r for r in caplog.records if r.name == "mailgun_mock.smtp" and r.exc_info]
    assert isinstance(record.exc_info[1], RuntimeError)  # type: ignore[index]
    assert len(mailgun_mock.backend.store.messages()) == 1


def test_smtp_logs_one_line_per_message(
    mailgun_mock: MailgunMock, listener: SmtpListener, caplog: pytest.LogCaptureFixture
) -> None:
    """Each accepted message logs one line: sender, recipients, size and the number of routes matched."""
    store_route(mailgun_mock.backend)
    raw = message()
    with caplog.at_level(logging.INFO, logger="mailgun_mock.smtp"), client(listener) as smtp:
        smtp.sendmail("bob@example.net", ["a@example.com", "b@example.com"], raw)
    lines = [r.getMessage() for r in caplog.records if r.name == "mailgun_mock.smtp"]
    assert lines == [f"SMTP <bob@example.net> -> a@example.com, b@example.com: {len(raw)} bytes, 1 route matched"]


def test_smtp_concurrent_clients_all_arrive(mailgun_mock: MailgunMock, listener: SmtpListener) -> None:
    """Four clients sending 25 messages each over their own connections all get routed."""
    store_route(mailgun_mock.backend)

    def send(number: int) -> None:
        with client(listener) as smtp:
            for i in range(25):
                smtp.sendmail("bob@example.net", [f"c{number}-{i}@example.com"], message(subject=f"{number}/{i}"))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for done in [pool.submit(send, n) for n in range(4)]:
            done.result()
    assert sorted(stored(mailgun_mock.backend)) == sorted(f"c{n}-{i}@example.com" for n in range(4) for i in range(25))


def test_smtp_stop_closes_port(mailgun_mock: MailgunMock) -> None:
    """stop() closes the port and the open connections at once, and a second stop() does nothing."""
    smtp_listener = SmtpListener(mailgun_mock.backend, "127.0.0.1", 0).start()
    port = smtp_listener.port
    connected = client(smtp_listener)
    connected.ehlo()
    began = time.monotonic()
    smtp_listener.stop()
    assert time.monotonic() - began < 1
    smtp_listener.stop()
    assert not smtp_listener.running
    with pytest.raises(smtplib.SMTPServerDisconnected):
        connected.noop()
    connected.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    gc.collect()  # a transport or socket left open would warn now, and warnings are errors


def test_smtp_stop_just_after_a_connect_closes_the_accepted_socket(
        mailgun_mock: MailgunMock, monkeypatch: pytest.MonkeyPatch) -> None:
    """stop() right after a client connects closes the socket asyncio accepted, even when its transport
    is not made yet (asyncio 3.11 fails one made after the server closed, leaving the socket to the
    garbage collector). Repeated, since the window is one turn of the event loop."""
    import sys

    leaked: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: leaked.append(unraisable.object))
    for _ in range(60):
        smtp_listener = SmtpListener(mailgun_mock.backend, "127.0.0.1", 0).start()
        socket.create_connection(("127.0.0.1", smtp_listener.port), timeout=2).close()
        smtp_listener.stop()
        gc.collect()
    assert leaked == []


def test_smtp_busy_port_fails_in_start(mailgun_mock: MailgunMock) -> None:
    """start() on a port already in use raises OSError at once, in the caller's thread."""
    with socket.create_server(("127.0.0.1", 0)) as busy:
        smtp_listener = SmtpListener(mailgun_mock.backend, "127.0.0.1", busy.getsockname()[1])
        began = time.monotonic()
        with pytest.raises(OSError):
            smtp_listener.start()
        assert time.monotonic() - began < 1
    assert not smtp_listener.running
    with pytest.raises(RuntimeError):
        smtp_listener.port
    smtp_listener.stop()  # harmless when never started
