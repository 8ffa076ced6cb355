"""mailgun_mock.edges.wsgi_server: HTTP/1.1 connections stay open across requests, whatever the previous
request left unread, and close when the client, a broken request or the server's stop says so."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any, BinaryIO

import pytest
import requests

from mailgun_mock import MailgunMock
from mailgun_mock.edges.wsgi_server import WsgiServer


@pytest.fixture
def accepted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every connection the mock's HTTP server accepts from now on (its client port)."""
    seen: list[int] = []
    accept = WsgiServer.get_request

    def counting(self: WsgiServer) -> Any:
        connection, address = accept(self)
        seen.append(address[1])
        return connection, address

    monkeypatch.setattr(WsgiServer, "get_request", counting)
    return seen


@pytest.fixture
def mock() -> Iterator[MailgunMock]:
    """A mock of its own on 127.0.0.1, with a small message size limit (bodies over ~67 KB get 413)."""
    with MailgunMock(port=0, max_message_size=1000) as served:
        yield served


class Connection:
    """One raw connection to the mock: requests written as bytes, answers read back one at a time."""

    def __init__(self, mock: MailgunMock) -> None:
        self.sock = socket.create_connection(("127.0.0.1", mock.port), timeout=10)
        self.rfile: BinaryIO = self.sock.makefile("rb")
        self.auth = b"Authorization: Basic " + base64.b64encode(f"api:{mock.api_key}".encode())

    def send(self, head: str, body: bytes = b"", auth: bool = True) -> None:
        lines = head.encode("ascii") + b"\r\nHost: 127.0.0.1\r\n" + (self.auth + b"\r\n" if auth else b"")
        self.sock.sendall(lines + b"\r\n" + body)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        """The next answer: status, headers (lower-case names), body (de-chunked)."""
        status = int(self.rfile.readline().split()[1])
        headers = {}
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            return status, headers, self.rfile.read(int(headers["content-length"]))
        body = b""
        while size := int(self.rfile.readline(), 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()
        return status, headers, body

    def closed_by_server(self) -> bool:
        """Whether the server closed its end (the next read finds the end of the stream)."""
        return self.rfile.read(1) == b""

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()


@pytest.fixture
def conn(mock: MailgunMock) -> Iterator[Connection]:
    """A raw connection to the mock, closed after the test."""
    connection = Connection(mock)
    yield connection
    connection.close()


def health(conn: Connection) -> int:
    """GET /mock/health on the connection; its status."""
    conn.send("GET /mock/health HTTP/1.1", auth=False)
    status, _, body = conn.answer()
    assert b'"status":"ok"' in body
    return status


def test_wsgi_server_requests_session_uses_one_connection(accepted: list[int], mock: MailgunMock) -> None:
    """Fifty calls of a requests.Session (form and multipart sends, reads, 401s, 404s) travel on one connection."""
    with requests.Session() as session:
        session.auth = ("api", mock.api_key)
        for n in range(10):
            form = {"from": "a@example.com", "to": "b@example.net", "subject": f"n{n}", "text": "x"}
            assert session.post(f"{mock.url}/v3/example.com/messages", data=form).status_code == 200
            assert session.post(f"{mock.url}/v3/example.com/messages", data=form,
                                files={"attachment": ("a.txt", b"hi")}).status_code == 200
            assert session.get(f"{mock.url}/v3/routes").status_code == 200
            assert session.get(f"{mock.url}/v3/nowhere").status_code == 404
            assert session.get(f"{mock.url}/v3/routes", auth=("api", "wrong")).status_code == 401
    assert len(accepted) == 1
    assert len(mock.outbox) == 20


def test_wsgi_server_unread_body_does_not_desync_the_next_request(conn: Connection) -> None:
    """A body the endpoint never reads (a 404 with 200 KB) is skipped: the next request on the connection is answered."""
    conn.send("POST /v3/nowhere HTTP/1.1\r\nContent-Length: 200000", b"x" * 200_000)
    assert conn.answer()[0] == 404
    assert health(conn) == 200


def test_wsgi_server_unread_chunked_body_does_not_desync_the_next_request(conn: Connection) -> None:
    """An unread chunked body is read to its last chunk before the next request is parsed."""
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in [b"GET /mock/health HTTP/1.1\r\n\r\n", b"y" * 5000])
    conn.send("POST /v3/nowhere HTTP/1.1\r\nTransfer-Encoding: chunked", chunks + b"0\r\n\r\n")
    assert conn.answer()[0] == 404
    assert health(conn) == 200


def test_wsgi_server_error_answers_keep_the_connection_usable(conn: Connection) -> None:
    """401, 404, 405, 400 and 413 (a body over the limit, unread) each leave the connection serving the next request."""
    conn.send("GET /v3/routes HTTP/1.1", auth=False)
    assert conn.answer()[0] == 401
    conn.send("DELETE /v3/routes/x/y/z HTTP/1.1")
    assert conn.answer()[0] == 404
    conn.send("PATCH /v3/routes HTTP/1.1")
    assert conn.answer()[0] == 405
    conn.send("POST /v3/example.com/messages HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              "Content-Length: 7", b"from=x&")
    assert conn.answer()[0] == 400
    conn.send("POST /mock/inbound HTTP/1.1\r\nContent-Type: message/rfc822\r\nContent-Length: 100000", b"z" * 100_000)
    status, headers, _ = conn.answer()
    assert status == 413 and "connection" not in headers
    assert health(conn) == 200


def test_wsgi_server_expect_continue_with_unread_body(conn: Connection) -> None:
    """With Expect: 100-continue the interim answer comes first, and an unread body still does not desync."""
    conn.send("POST /v3/nowhere HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10", b"0123456789")
    assert conn.rfile.readline().startswith(b"HTTP/1.1 100")
    assert conn.rfile.readline() == b"\r\n"
    assert conn.answer()[0] == 404
    assert health(conn) == 200


@pytest.mark.parametrize("head", ["GET /mock/health HTTP/1.1\r\nConnection: close", "GET /mock/health HTTP/1.0"])
def test_wsgi_server_closes_when_the_client_asks(conn: Connection, head: str) -> None:
    """Connection: close, or an HTTP/1.0 request, gets one answer saying Connection: close, then the end of the stream."""
    conn.send(head, auth=False)
    status, headers, _ = conn.answer()
    assert status == 200 and headers["connection"] == "close"
    assert conn.closed_by_server()


@pytest.mark.parametrize("head", [
    "POST /v3/nowhere HTTP/1.1\r\nTransfer-Encoding: chunked",  # then a chunk size that is no number
    "POST /v3/nowhere HTTP/1.1\r\nContent-Length: many",
    "GET /mock/health HTTP/1.1\r\nUser-Agent: a\rb",  # a bare CR ends the header block early
])
def test_wsgi_server_closes_after_a_request_it_cannot_delimit(conn: Connection, head: str) -> None:
    """A request whose end cannot be told (a broken chunk, a non-numeric length, a broken header block) closes the connection."""
    conn.send(head, b"zz\r\nnot a chunk\r\n\r\n" if "chunked" in head else b"")
    assert conn.answer()[0] in (200, 404)
    assert conn.closed_by_server()


def test_wsgi_server_pipelined_requests_are_answered_in_order(conn: Connection) -> None:
    """Two requests written at once are answered one after the other on the same connection."""
    conn.send("GET /v3/nowhere HTTP/1.1", b"GET /mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert conn.answer()[0] == 404
    assert conn.answer()[0] == 200


def test_wsgi_server_stop_ends_idle_connections(mock: MailgunMock, conn: Connection) -> None:
    """A kept-alive connection waiting for its next request is closed when the server stops."""
    assert health(conn) == 200
    mock.stop()
    assert conn.closed_by_server()


def test_wsgi_server_idle_connection_closes_after_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection idle for keep_alive_timeout seconds is closed by the server."""
    monkeypatch.setattr(WsgiServer, "keep_alive_timeout", 0.05)
    with MailgunMock(port=0) as served:
        connection = Connection(served)
        try:
            assert health(connection) == 200
            assert connection.closed_by_server()
        finally:
            connection.close()


def test_wsgi_server_a_thousand_session_calls_ride_one_connection(
        accepted: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A requests.Session makes 1,000 calls on one connection; stop() then ends it and three idle raw
    connections at once (not at their idle timeout, set here to ten minutes), leaving no handler
    thread behind."""
    import threading
    import time

    monkeypatch.setattr(WsgiServer, "keep_alive_timeout", 600.0)
    before = set(threading.enumerate())
    served = MailgunMock(port=0).start()
    idle = [Connection(served) for _ in range(3)]
    try:
        with requests.Session() as session:
            session.auth = ("api", served.api_key)
            for n in range(1000):
                if n % 100 == 0:
                    form = {"from": "a@example.com", "to": "b@example.net", "subject": f"n{n}", "text": "x"}
                    assert session.post(f"{served.url}/v3/example.com/messages", data=form).status_code == 200
                else:
                    assert session.get(f"{served.url}/mock/health").status_code == 200
            for connection in idle:
                assert health(connection) == 200
            assert len(accepted) == 4  # the session's one connection and the three raw ones
            assert len(served.outbox) == 10
            began = time.monotonic()
            served.stop()
            assert time.monotonic() - began < 60  # far below the 600 s idle timeout it would wait for
            assert all(connection.closed_by_server() for connection in idle)
    finally:
        for connection in idle:
            connection.close()
        served.stop()
    deadline = time.monotonic() + 10
    while (left := set(threading.enumerate()) - before) and time.monotonic() < deadline:
        time.sleep(0.01)  # handler threads end once their closed connection reads its end
    assert left == set()
