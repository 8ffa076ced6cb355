"""MailgunMock: binding, serving on a thread, stopping, and surfacing server-thread errors."""

from __future__ import annotations

import socket

import pytest
import requests

from mailgun_mock import MailgunMock, ServerError


def test_server_port_zero_picks_a_free_port_and_serves() -> None:
    """port=0 binds a free port, read back into url, and the API answers there."""
    with MailgunMock(port=0) as mock:
        assert mock.port > 0
        assert mock.url == f"http://127.0.0.1:{mock.port}"
        assert requests.get(f"{mock.url}/mock/health", timeout=5).json()["status"] == "ok"


def test_server_busy_port_fails_in_the_callers_thread() -> None:
    """Binding happens in start(), so a busy port raises there instead of on the thread."""
    with MailgunMock(port=0) as first:
        second = MailgunMock(port=first.port)
        with pytest.raises(OSError):
            second.start()
        assert not second.running


def test_server_stop_closes_the_socket_and_is_idempotent() -> None:
    """After stop() the port refuses connections, and a second stop() is harmless."""
    mock = MailgunMock().start()
    port = mock.port
    mock.stop()
    mock.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_server_can_restart_after_stop() -> None:
    """A stopped MailgunMock can start again, keeping its state."""
    mock = MailgunMock()
    with mock:
        mock.backend.create_route("catch_all()", ["stop()"])
    with mock:
        reply = requests.get(f"{mock.url}/v3/routes", auth=("api", mock.api_key), timeout=5)
        assert reply.json()["total_count"] == 1


def test_server_refuses_double_start() -> None:
    """start() on a running server raises instead of leaking a second socket."""
    with MailgunMock() as mock, pytest.raises(RuntimeError, match="already running"):
        mock.start()


def test_server_url_needs_a_running_server() -> None:
    """url before start() raises a clear error."""
    with pytest.raises(RuntimeError, match="call start"):
        MailgunMock().url


def test_server_uses_given_keys() -> None:
    """api_key and signing_key come from the config and the API checks that key."""
    with MailgunMock(api_key="key-custom", signing_key="sign-custom") as mock:
        assert (mock.api_key, mock.signing_key) == ("key-custom", "sign-custom")
        assert requests.get(f"{mock.url}/v3/routes", auth=("api", "key-custom"), timeout=5).status_code == 200


def test_server_keeps_serving_many_concurrent_clients() -> None:
    """Threaded: concurrent requests are all answered."""
    from concurrent.futures import ThreadPoolExecutor

    with MailgunMock() as mock:
        def create(i: int) -> int:
            data = {"expression": f'match_recipient("r{i}@")', "action": "stop()"}
            return requests.post(f"{mock.url}/v3/routes", data=data, auth=("api", mock.api_key), timeout=10).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(create, range(64))) == {200}
        assert len(mock.backend.store.routes()) == 64


def test_server_errors_are_reraised_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception on the server thread answers a JSON 500 and raise_errors() re-raises it."""
    with MailgunMock() as mock:
        def boom(*args: object, **kwargs: object) -> None:
            raise KeyError("boom")

        monkeypatch.setattr(mock.backend, "list_routes", boom)
        reply = requests.get(f"{mock.url}/v3/routes", auth=("api", mock.api_key), timeout=5)
        assert reply.status_code == 500
        assert reply.json() == {"message": "internal error: KeyError"}
        with pytest.raises(ServerError) as info:
            mock.raise_errors()
        assert isinstance(info.value.__cause__, KeyError)
        mock.raise_errors()  # reported once


def test_server_ipv6_url_is_bracketed() -> None:
    """A server bound to ::1 gives a bracketed URL that works."""
    with MailgunMock(host="::1") as mock:
        assert mock.url.startswith("http://[::1]:")
        assert requests.get(f"{mock.url}/mock/health", timeout=5).status_code == 200


def test_server_smtp_port_zero_picks_a_free_port() -> None:
    """smtp_port=0 starts SMTP on a free port, read back as smtp_port, and health reports both listeners."""
    import smtplib

    with MailgunMock(smtp_port=0) as mock:
        assert mock.smtp_port is not None and mock.smtp_port > 0
        health = requests.get(f"{mock.url}/mock/health", timeout=5).json()
        assert health["http"] == {"url": mock.url, "port": mock.port}
        assert health["smtp"] == {"port": mock.smtp_port}
        with smtplib.SMTP("127.0.0.1", mock.smtp_port, timeout=10) as client:
            assert client.noop()[0] == 250


def test_server_without_smtp_reports_none() -> None:
    """By default there is no SMTP listener: smtp_port is None and health says smtp: null."""
    with MailgunMock() as mock:
        assert mock.smtp_port is None
        assert requests.get(f"{mock.url}/mock/health", timeout=5).json()["smtp"] is None


def test_server_health_answers_only_once_smtp_accepts() -> None:
    """Polling /mock/health from the moment the port is bound: the first 200 comes when SMTP already accepts."""
    import threading

    port = socket.create_server(("127.0.0.1", 0))
    http_port = port.getsockname()[1]
    port.close()
    seen: list[int] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                reply = requests.get(f"http://127.0.0.1:{http_port}/mock/health", timeout=2)
            except requests.ConnectionError:
                continue
            smtp = reply.json()["smtp"]["port"]
            with socket.create_connection(("127.0.0.1", smtp), timeout=2):
                seen.append(smtp)  # connected: SMTP was accepting when health first said ok
            return

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        with MailgunMock(port=http_port, smtp_port=0) as mock:
            poller.join(10)
            assert seen == [mock.smtp_port]
    finally:
        stop.set()


def test_server_busy_smtp_port_names_smtp_and_releases_http() -> None:
    """A busy SMTP port raises an OSError naming SMTP and its port; the HTTP port is released again."""
    with socket.create_server(("127.0.0.1", 0)) as busy:
        smtp_port = busy.getsockname()[1]
        mock = MailgunMock(smtp_port=smtp_port)
        with pytest.raises(OSError, match=f"cannot listen for SMTP on 127.0.0.1:{smtp_port}"):
            mock.start()
    assert not mock.running
    with MailgunMock(port=0) as other:
        assert other.port > 0
