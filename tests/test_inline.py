"""deliver="inline" and wsgi_targets: webhooks delivered in the caller's thread, straight into a WSGI app."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask, request
from pytest_httpserver import HTTPServer

from mailgun_mock import MailgunMock
from mailgun_mock.base.config import Config, ConfigError


class App:
    """A small Flask receiver that records each POST's form and the thread that handled it."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[tuple[int, dict[str, Any]]] = []
        self.fail_first = fail_first
        self.app = Flask("receiver")
        self.app.add_url_rule("/inbound", "inbound", self.inbound, methods=["POST"])
        self.app.add_url_rule("/events", "events", self.events, methods=["POST"])

    def inbound(self) -> tuple[str, int]:
        self.calls.append((threading.get_ident(), dict(request.form)))
        return ("down", 500) if len(self.calls) <= self.fail_first else ("ok", 200)

    def events(self) -> tuple[str, int]:
        self.calls.append((threading.get_ident(), request.get_json()))
        return "ok", 200


@pytest.fixture
def inline_mock() -> Iterator[MailgunMock]:
    """A mock delivering inline, with its own server."""
    with MailgunMock(deliver="inline") as mock:
        yield mock


def message(to: str = "in@example.com") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bob@example.net", to, "Hi"
    msg.set_content("hello")
    return msg.as_bytes()


def test_inline_inject_delivers_in_the_callers_thread(inline_mock: MailgunMock) -> None:
    """With deliver="inline" and a WSGI target, the receiving view runs in the test's own thread before inject returns."""
    app = App()
    inline_mock.wsgi_targets({"http://app.test": app.app})
    inline_mock.create_route("catch_all()", 'forward("http://app.test/inbound")')
    inline_mock.inject(message(), wait=False)
    ((thread, form),) = app.calls
    assert thread == threading.get_ident()
    assert form["recipient"] == "in@example.com" and form["subject"] == "Hi"
    assert [a["outcome"] for a in inline_mock.deliveries] == ["delivered"]


def test_inline_retries_follow_the_clock(inline_mock: MailgunMock) -> None:
    """A failed inline attempt is retried only when the clock reaches it, again in the caller's thread."""
    app = App(fail_first=1)
    inline_mock.wsgi_targets({"http://app.test": app.app})
    inline_mock.create_route("catch_all()", 'forward("http://app.test/inbound")')
    inline_mock.inject(message(), wait=False)
    assert [a["outcome"] for a in inline_mock.deliveries] == ["retrying"]
    inline_mock.advance_clock(599)
    assert len(app.calls) == 1
    inline_mock.advance_clock(1)
    assert [a["outcome"] for a in inline_mock.deliveries] == ["retrying", "delivered"]
    assert {thread for thread, _ in app.calls} == {threading.get_ident()}


def test_inline_send_logs_delivered_and_fires_the_webhook_at_once(inline_mock: MailgunMock) -> None:
    """A send through the HTTP API in inline mode has logged delivered and POSTed its event webhook when the call returns."""
    app = App()
    inline_mock.wsgi_targets({"http://app.test": app.app})
    inline_mock.backend.create_webhook("example.com", "delivered", ["http://app.test/events"])
    reply = inline_mock.session.post(f"{inline_mock.url}/v3/example.com/messages", timeout=10, data={
        "from": "shop@example.com", "to": "ann@example.net", "subject": "Welcome", "text": "hi"})
    assert reply.status_code == 200
    assert [e["event"] for e in inline_mock.events] == ["accepted", "delivered"]
    ((_, body),) = app.calls
    assert body["event-data"]["event"] == "delivered" and body["event-data"]["recipient"] == "ann@example.net"


def test_wsgi_targets_leave_other_urls_on_http(inline_mock: MailgunMock, receiver: HTTPServer) -> None:
    """Only URLs under a target's base go into the app, others still go over HTTP; {} removes the targets."""
    receiver.expect_request("/inbound").respond_with_data("ok")
    receiver.expect_request("/hook").respond_with_data("ok")
    app = App()
    base = receiver.url_for("/inbound").rpartition("/")[0]  # the receiver's own base: taken over by the app
    inline_mock.wsgi_targets({f"{base}/inbound": app.app})
    inline_mock.create_route("catch_all()", f'forward("{base}/inbound")', f'forward("{receiver.url_for("/hook")}")')
    inline_mock.inject(message(), wait=False)
    assert len(app.calls) == 1
    assert [r.path for r, _ in receiver.log] == ["/hook"]
    inline_mock.wsgi_targets({})
    inline_mock.inject(message(), wait=False)
    assert len(app.calls) == 1
    assert [r.path for r, _ in receiver.log] == ["/hook", "/inbound", "/hook"]


def test_wsgi_target_that_raises_is_a_failed_attempt(inline_mock: MailgunMock) -> None:
    """An application that raises counts as a failed attempt (retried), not as an error of the mock."""
    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    inline_mock.wsgi_targets({"http://app.test": broken})
    inline_mock.create_route("catch_all()", 'forward("http://app.test/inbound")')
    inline_mock.inject(message(), wait=False)
    (attempt,) = inline_mock.deliveries
    assert attempt["outcome"] == "retrying"
    assert attempt["error"] == "the WSGI application raised RuntimeError: boom"
    inline_mock.raise_errors()  # nothing recorded as a bug of the mock


def test_thread_mode_with_wsgi_targets_runs_off_the_callers_thread(mailgun_mock: MailgunMock) -> None:
    """By default (deliver="thread") a WSGI target is called on a delivery lane, not in the test's thread."""
    app = App()
    mailgun_mock.wsgi_targets({"http://app.test": app.app})
    try:
        mailgun_mock.create_route("catch_all()", 'forward("http://app.test/inbound")')
        mailgun_mock.inject(message())
        ((thread, _),) = app.calls
        assert thread != threading.get_ident()
    finally:
        mailgun_mock.wsgi_targets({})


def test_deliver_setting_and_its_environment_twin() -> None:
    """deliver is "thread" by default, "inline" from MAILGUN_MOCK_DELIVER, and anything else is refused."""
    assert Config().deliver == "thread"
    assert Config.from_env({"MAILGUN_MOCK_DELIVER": "inline"}).deliver == "inline"
    with pytest.raises(ConfigError, match="deliver must be 'thread' or 'inline', got 'sync'"):
        Config(deliver="sync")
