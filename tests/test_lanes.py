"""Delivery lanes: a dead receiver delays nobody else, attempts are signed with the wall clock,
and a refused connection is reported as what it is."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from pytest_httpserver import HTTPServer

from mailgun_mock import MailgunMock


class BlackHole:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers (a hung receiver)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=200)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    """A receiver that holds every connection open without answering, closed after the test."""
    hole = BlackHole()
    yield hole
    hole.close()


def message(to: str, subject: str = "Hi") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bob@example.net", to, subject
    msg.set_content("hello")
    return msg.as_bytes()


def wait_for(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_dead_receiver_does_not_delay_a_healthy_one(black_hole: BlackHole, receiver: HTTPServer) -> None:
    """With 50 webhooks hanging on a receiver that never answers, another URL's webhook is still delivered."""
    receiver.expect_request("/ok").respond_with_data("ok")
    with MailgunMock(delivery_timeout=60) as mock:
        mock.create_route('match_recipient("dead@example.com")', f'forward("{black_hole.url("/hook")}")')
        mock.create_route('match_recipient("live@example.com")', f'forward("{receiver.url_for("/ok")}")')
        for _ in range(50):
            mock.inject(message("dead@example.com"), wait=False)
        assert wait_for(lambda: len(black_hole.held) >= 4)
        mock.inject(message("live@example.com"), wait=False)
        # Before lanes the healthy webhook queued behind the hanging ones until their 60 s timeout.
        (attempt,) = mock.wait_for_deliveries(1, url=receiver.url_for("/ok"), timeout=10)
        assert attempt["outcome"] == "delivered"
        assert len(black_hole.held) == 4  # one lane's width: the other 46 wait in that lane only
        assert mock.deliveries == [attempt]  # nothing to the dead receiver has finished


def test_advance_clock_returns_while_a_receiver_hangs(black_hole: BlackHole) -> None:
    """advance_clock (and POST /mock/clock) plays what is due without waiting for attempts that hang."""
    with MailgunMock(delivery_timeout=60) as mock:
        mock.create_route("catch_all()", f'forward("{black_hole.url("/hook")}")')
        for _ in range(50):
            mock.inject(message("dead@example.com"), wait=False)
        assert wait_for(lambda: len(black_hole.held) >= 4)
        done = threading.Event()
        threading.Thread(target=lambda: (mock.advance_clock(60), done.set()), daemon=True).start()
        assert done.wait(10)  # before lanes it waited for every hanging attempt (60 s each)
        reply = mock.session.post(f"{mock.url}/mock/clock", json={"advance": 60}, timeout=10)
        assert reply.status_code == 200


def test_retries_of_a_jump_still_play_in_order_beside_a_hung_lane(black_hole: BlackHole,
                                                                   receiver: HTTPServer) -> None:
    """One jump of nine hours runs a failing receiver's whole retry schedule even while another lane hangs."""
    receiver.expect_request("/down").respond_with_data("no", status=503)
    with MailgunMock(delivery_timeout=60) as mock:
        mock.create_route('match_recipient("dead@example.com")', f'forward("{black_hole.url("/hook")}")')
        mock.create_route('match_recipient("down@example.com")', f'forward("{receiver.url_for("/down")}")')
        for _ in range(8):
            mock.inject(message("dead@example.com"), wait=False)
        mock.inject(message("down@example.com"))
        mock.advance_clock(9 * 3600)
        outcomes = [a["outcome"] for a in mock.deliveries if a["url"] == receiver.url_for("/down")]
        assert outcomes == ["retrying"] * 7 + ["failed"]


def test_attempts_are_signed_with_the_wall_clock(receiver: HTTPServer) -> None:
    """After the mock's clock moves ahead, a retry's signature timestamp is still the real time of the POST."""
    bodies: list[dict[str, str]] = []

    def record(request: object) -> str:
        from werkzeug import Request, Response
        assert isinstance(request, Request)
        bodies.append(dict(request.form))
        return Response("no", status=503)  # type: ignore[return-value]

    receiver.expect_request("/flaky").respond_with_handler(record)
    with MailgunMock() as mock:
        mock.create_route("catch_all()", f'forward("{receiver.url_for("/flaky")}")')
        mock.inject(message("a@example.com"))
        mock.advance_clock(3600)
        assert len(bodies) >= 2
        event_times = [e["timestamp"] for e in mock.events if e["event"] == "failed"]
        for fields in bodies:
            assert abs(int(fields["timestamp"]) - time.time()) < 60  # fresh for a receiver's own clock
            expected = hmac.new(mock.signing_key.encode(), (fields["timestamp"] + fields["token"]).encode(),
                                hashlib.sha256).hexdigest()
            assert fields["signature"] == expected
        assert max(event_times) - time.time() > 2000  # the events keep the mock's (advanced) time: the 2100 s retry


def test_event_webhook_is_signed_with_the_wall_clock(receiver: HTTPServer) -> None:
    """A domain event webhook fired after a clock jump carries a wall-clock signature timestamp."""
    receiver.expect_request("/events").respond_with_data("ok")
    with MailgunMock() as mock:
        mock.advance_clock(7200)
        mock.backend.create_webhook("example.com", "delivered", [receiver.url_for("/events")])
        mock.session.post(f"{mock.url}/v3/example.com/messages", timeout=10, data={
            "from": "a@example.com", "to": "b@example.net", "subject": "Hi", "text": "hello"})
        mock.wait_for_deliveries(1, kind="webhook:delivered")
        (request, _), *_ = receiver.log
        body = json.loads(request.get_data())
        assert abs(int(body["signature"]["timestamp"]) - time.time()) < 60
        assert body["event-data"]["timestamp"] - time.time() > 7000


def test_refused_connection_is_reported_as_refused(caplog: pytest.LogCaptureFixture) -> None:
    """A receiver port with nobody listening is logged and recorded as a refused connection, not a timeout."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with MailgunMock() as mock, caplog.at_level(logging.INFO, logger="mailgun_mock.delivery"):
        mock.create_route("catch_all()", f'forward("http://127.0.0.1:{port}/hook")')
        mock.inject(message("a@example.com"))
        (attempt,) = mock.deliveries
        assert attempt["error"] == "connection refused"
        assert "timed out" not in caplog.text and "connection refused" in caplog.text


def test_clear_waits_for_the_mocks_own_running_job_but_not_for_a_post() -> None:
    """Scheduler.clear (what reset calls) returns only once a running delivery step has finished, so
    its event cannot land in the next test's state; a running POST (may hang) is not waited for."""
    from mailgun_mock.base.clock import Clock
    from mailgun_mock.delivery.scheduler import Scheduler

    scheduler = Scheduler(Clock(), grace=30.0)
    step_running, post_running, release_post = threading.Event(), threading.Event(), threading.Event()
    done: list[str] = []

    def step() -> None:
        step_running.set()
        time.sleep(0.3)
        done.append("step")

    def post() -> None:
        post_running.set()
        release_post.wait(30)
        done.append("post")

    try:
        scheduler.at(0, "mock", step, "delivery step")
        scheduler.at(0, "http://receiver", post, "webhook POST", may_hang=True)
        assert step_running.wait(10) and post_running.wait(10)
        scheduler.clear()
        assert done == ["step"]  # the step finished before clear returned; the hung POST did not hold it
    finally:
        release_post.set()
        scheduler.stop()


def test_an_attempt_in_flight_at_reset_leaves_nothing_in_the_state_after(black_hole: BlackHole) -> None:
    """A POST that was hanging when the mock was reset ends afterwards without recording an attempt
    (or scheduling a retry) in the state the next test sees."""
    with MailgunMock(delivery_timeout=1) as mock:
        mock.create_route("catch_all()", f'forward("{black_hole.url("/hook")}")')
        mock.inject(message("dead@example.com"), wait=False)
        assert wait_for(lambda: len(black_hole.held) >= 1)
        mock.reset()
        assert wait_for(lambda: mock.backend.delivery.pending() == 0)  # the POST timed out after the reset
        assert mock.deliveries == [] and mock.events == []
        mock.advance_clock(9 * 3600)
        assert mock.deliveries == [] and len(black_hole.held) == 1  # no retry either
