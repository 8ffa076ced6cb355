"""The mailgun-mock command: serve prints where it listens, honours flags and env, stops cleanly."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import requests


class Serving:
    """A `mailgun-mock serve` child process and what it printed."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILGUN_MOCK_")}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mailgun_mock", "serve", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self._queue.put(line)
        self._queue.put(None)

    def read_until(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """Read stdout lines until one matches ``pattern``."""
        for line in self.lines:
            if m := re.search(pattern, line):
                return m
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in {self.lines}") from None
            if line is None:
                raise AssertionError(f"process ended; stdout {self.lines}")
            self.lines.append(line)
            if m := re.search(pattern, line):
                return m

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=20)
        self._reader.join(timeout=20)
        while (line := self._queue.get_nowait() if not self._queue.empty() else None) is not None:
            self.lines.append(line)
        return code


@pytest.fixture
def serve() -> Iterator[type[Serving]]:
    started: list[Serving] = []

    class Tracked(Serving):
        def __init__(self, *args: str, **kwargs: dict[str, str]) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            started.append(self)

    yield Tracked
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
        s.proc.wait()
        for stream in (s.proc.stdout, s.proc.stderr):
            stream.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serve_prints_url_and_keys_and_stops_on_signal(serve: type[Serving], sig: int) -> None:
    """serve prints the URL and both keys, serves the API there, and exits 0 on SIGTERM or Ctrl-C."""
    s = serve("--port", "0", "--api-key", "key-cli", "--signing-key", "sign-cli")
    url = s.read_until(r"serving the Mailgun API on (http://127\.0\.0\.1:\d+)").group(1)
    s.read_until(r"API key:\s+key-cli")
    s.read_until(r"Signing key:\s+sign-cli")
    assert requests.get(f"{url}/mock/health", timeout=5).status_code == 200
    assert requests.get(f"{url}/v3/routes", auth=("api", "key-cli"), timeout=5).status_code == 200
    assert requests.get(f"{url}/v3/routes", auth=("api", "other"), timeout=5).status_code == 401
    assert s.stop(sig) == 0
    assert "mailgun-mock stopped." in "".join(s.lines)


def test_cli_serve_reads_env_twins(serve: type[Serving]) -> None:
    """MAILGUN_MOCK_API_KEY, _SIGNING_KEY and _PORT configure serve when no flag is given."""
    s = serve(env={"MAILGUN_MOCK_API_KEY": "key-env", "MAILGUN_MOCK_SIGNING_KEY": "sign-env", "MAILGUN_MOCK_PORT": "0"})
    url = s.read_until(r"on (http://\S+)").group(1)
    s.read_until(r"API key:\s+key-env")
    s.read_until(r"Signing key:\s+sign-env")
    assert requests.get(f"{url}/v3/routes", auth=("api", "key-env"), timeout=5).status_code == 200
    assert s.stop() == 0


def test_cli_flag_beats_env(serve: type[Serving]) -> None:
    """A flag wins over its environment twin."""
    s = serve("--port", "0", "--api-key", "key-flag", env={"MAILGUN_MOCK_API_KEY": "key-env"})
    s.read_until(r"API key:\s+key-flag")
    assert s.stop() == 0


def test_cli_bad_env_value_exits_2_with_message() -> None:
    """An unusable value exits 2 and says which variable is wrong."""
    env = {**os.environ, "MAILGUN_MOCK_PORT": "eighty"}
    done = subprocess.run([sys.executable, "-m", "mailgun_mock", "serve"], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 2
    assert "MAILGUN_MOCK_PORT must be a number, got 'eighty'" in done.stderr


def test_cli_busy_port_exits_1_with_message() -> None:
    """A port already in use exits 1 with a message instead of a traceback."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "mailgun_mock", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"cannot listen for HTTP on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_busy_smtp_port_names_the_smtp_port() -> None:
    """A busy SMTP port exits 1 naming SMTP and that port, not the (free) HTTP port."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "mailgun_mock", "serve", "--port", "0", "--smtp-port", str(port)],
                              capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"cannot listen for SMTP on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "HTTP" not in done.stderr and "Traceback" not in done.stderr


def test_cli_requires_a_command() -> None:
    """Without a subcommand the CLI prints usage and exits 2."""
    done = subprocess.run([sys.executable, "-m", "mailgun_mock"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "usage: mailgun-mock" in done.stderr


def test_cli_serve_takes_delivery_flags(serve: type[Serving]) -> None:
    """--public-url, --retention, --retry-schedule and --delivery-timeout reach the running server."""
    s = serve("--port", "0", "--public-url", "https://mg.example.test", "--retention", "60",
              "--retry-schedule", "1,2", "--delivery-timeout", "3")
    url = s.read_until(r"on (http://\S+)").group(1)
    auth = ("api", "key-mailgunmock0000000000000000000")
    requests.post(f"{url}/v3/routes", data={"expression": "catch_all()", "action": "store()"}, auth=auth, timeout=5)
    answer = requests.post(f"{url}/mock/inbound", data=b"From: a@example.net\r\nTo: b@example.com\r\n\r\nx",
                           headers={"Content-Type": "message/rfc822"}, auth=auth, timeout=5).json()
    storage = answer["recipients"][0]["actions"][0]["storage"]["url"]
    assert storage.startswith("https://mg.example.test/v3/domains/example.com/messages/")
    local = storage.replace("https://mg.example.test", url)
    assert requests.get(local, auth=auth, timeout=5).status_code == 200
    requests.post(f"{url}/mock/clock", json={"advance": 61}, auth=auth, timeout=5)
    assert requests.get(local, auth=auth, timeout=5).status_code == 404
    assert s.stop() == 0


def test_cli_refuses_bad_retry_schedule() -> None:
    """A malformed --retry-schedule is a usage error (exit 2) naming the problem."""
    done = subprocess.run([sys.executable, "-m", "mailgun_mock", "serve", "--retry-schedule", "1,x"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "comma-separated seconds" in done.stderr


def test_cli_serve_with_smtp_routes_mail_sent_over_smtp(serve: type[Serving]) -> None:
    """--smtp-port starts an SMTP listener whose mail goes through the routes, and serve prints how to use it."""
    import smtplib
    import socket

    with socket.socket() as probe:  # a free port for the listener
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    s = serve("--port", "0", "--smtp-port", str(smtp_port))
    url = s.read_until(r"on (http://\S+)").group(1)
    s.read_until(rf"SMTP:\s+127\.0\.0\.1:{smtp_port}")
    auth = ("api", "key-mailgunmock0000000000000000000")
    requests.post(f"{url}/v3/routes", data={"expression": "catch_all()", "action": "store()"}, auth=auth, timeout=5)
    with smtplib.SMTP("127.0.0.1", smtp_port, local_hostname="client.example", timeout=10) as client:
        client.sendmail("bob@example.net", ["support@example.com"], b"Subject: Over SMTP\r\n\r\nHello\r\n")
    stored = requests.get(f"{url}/v3/example.com/events", params={"event": "stored"}, auth=auth, timeout=5).json()
    (event,) = stored["items"]
    message = requests.get(event["storage"]["url"], auth=auth, timeout=5).json()
    assert (message["subject"], message["sender"], message["recipients"]) == (
        "Over SMTP", "bob@example.net", "support@example.com")
    assert s.stop() == 0


def test_cli_serve_with_relay_prints_the_login_and_sends(serve: type[Serving]) -> None:
    """--smtp-submission-port and --smtp-password start the relay; serve prints its port and login, and a login sends."""
    import smtplib
    import socket

    with socket.socket() as probe:  # a free port for the relay
        probe.bind(("127.0.0.1", 0))
        relay_port = probe.getsockname()[1]
    s = serve("--port", "0", "--smtp-submission-port", str(relay_port), "--smtp-password", "pw-flag",
              "--domain", "mg.example.com")
    url = s.read_until(r"on (http://\S+)").group(1)
    s.read_until(rf"SMTP relay:\s+127\.0\.0\.1:{relay_port}")
    s.read_until(r"SMTP login:\s+postmaster@mg\.example\.com\s+password: pw-flag")
    with smtplib.SMTP("127.0.0.1", relay_port, local_hostname="client.example", timeout=10) as client:
        client.login("postmaster@mg.example.com", "pw-flag")
        client.sendmail("app@mg.example.com", ["bob@example.net"], b"Subject: Relayed\r\n\r\nHello\r\n")
    auth = ("api", "key-mailgunmock0000000000000000000")
    events = requests.get(f"{url}/v3/mg.example.com/events", params={"event": "accepted"}, auth=auth, timeout=5).json()
    assert [(e["method"], e["recipient"]) for e in events["items"]] == [("smtp", "bob@example.net")]
    assert s.stop() == 0


def test_cli_snapshot_survives_restart(serve: type[Serving], tmp_path) -> None:
    """State saved by one serve (routes, stored messages, events) is there after a restart on the same snapshot."""
    path = tmp_path / "state.json"
    auth = ("api", "key-mailgunmock0000000000000000000")
    s = serve("--port", "0", "--snapshot", str(path))
    url = s.read_until(r"on (http://\S+)").group(1)
    s.read_until(r"Snapshot:\s+" + re.escape(str(path)))
    route = requests.post(f"{url}/v3/routes", data={"expression": "catch_all()", "action": "store()"},
                          auth=auth, timeout=5).json()["route"]
    answer = requests.post(f"{url}/mock/inbound", data=b"From: a@example.net\r\nTo: b@example.com\r\nSubject: Kept\r\n\r\nx",
                           headers={"Content-Type": "message/rfc822"}, auth=auth, timeout=5).json()
    key = answer["recipients"][0]["actions"][0]["storage"]["key"]
    assert s.stop() == 0
    s2 = serve("--port", "0", "--snapshot", str(path))
    url2 = s2.read_until(r"on (http://\S+)").group(1)
    assert requests.get(f"{url2}/v3/routes/{route['id']}", auth=auth, timeout=5).json() == {"route": route}
    message = requests.get(f"{url2}/v3/domains/example.com/messages/{key}", auth=auth, timeout=5).json()
    assert message["subject"] == "Kept"
    events = requests.get(f"{url2}/v3/example.com/events", auth=auth, timeout=5).json()["items"]
    assert sorted(e["event"] for e in events) == ["accepted", "stored"]
    assert s2.stop() == 0


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"format": "mailgun-mock-snapshot", "version": 99, "state": {}}'])
def test_cli_refuses_a_bad_snapshot_and_leaves_it(tmp_path, content: bytes) -> None:
    """A corrupt or unknown-version snapshot stops serve with exit 1 and a message, and the file is untouched."""
    path = tmp_path / "state.json"
    path.write_bytes(content)
    done = subprocess.run([sys.executable, "-m", "mailgun_mock", "serve", "--port", "0", "--snapshot", str(path)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert str(path) in done.stderr and "not starting" in done.stderr
    assert path.read_bytes() == content


def test_cli_snapshot_loads_after_kill_9(serve: type[Serving], tmp_path) -> None:
    """Killing serve with SIGKILL during steady writes, again and again, always leaves a snapshot that loads
    and holds every route acknowledged more than a debounce interval (plus a save) before the kill."""
    import random
    import time

    path = tmp_path / "state.json"
    auth = ("api", "key-mailgunmock0000000000000000000")
    acked: list[float] = []  # when each route create was answered, in order
    rnd = random.Random(7)
    killed_at = 0.0
    for _ in range(5):
        s = serve("--port", "0", "--snapshot", str(path), env={"MAILGUN_MOCK_SNAPSHOT_DELAY": "0.02"})
        url = s.read_until(r"on (http://\S+)").group(1)
        total = requests.get(f"{url}/v3/routes", params={"limit": "1"}, auth=auth, timeout=5).json()["total_count"]
        assert total <= len(acked)  # nothing that was not acknowledged
        assert total >= sum(t < killed_at - 0.5 for t in acked)
        del acked[total:]  # the next round continues from what the file kept
        deadline = time.monotonic() + rnd.uniform(0.1, 0.4)
        while time.monotonic() < deadline:
            reply = requests.post(f"{url}/v3/routes", auth=auth, timeout=5,
                                  data={"expression": f'match_recipient("r{len(acked)}@")', "action": "stop()"})
            assert reply.status_code == 200
            acked.append(time.monotonic())
        killed_at = time.monotonic()
        s.proc.kill()
        s.proc.wait(timeout=10)
    from mailgun_mock.state import snapshot

    state = snapshot.load(str(path))
    assert state is not None and sum(t < killed_at - 0.5 for t in acked) <= len(state["routes"]) <= len(acked)
