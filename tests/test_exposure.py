"""What the mock exposes: loopback-only listeners, unguessable storage keys, bounded path values, clean logs and headers."""

from __future__ import annotations

import base64
import ipaddress
import logging
import os
import pathlib
import queue
import re
import socket
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from mailgun_mock import MailgunMock
from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.http.api.mock import PUBLIC_ENDPOINTS
from mailgun_mock.http.app import create_app
from tests.conftest import Api
from tests.test_app import ENDPOINTS

LINUX_PROC = pathlib.Path("/proc/net/tcp").exists()
# Control characters a client can send: C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
NASTY = "\r\n\x1b[31m\x00\x07\x08\x7f\x85\u2028\u2029"


def raw_controls(text: str) -> list[str]:
    """The control characters in ``text`` (categories Cc, Zl and Zp), which no log line may carry raw."""
    return [c for c in text if unicodedata.category(c) in ("Cc", "Zl", "Zp")]


# --------------------------------------------------------------------------- listening addresses


def listening_hosts(port: int) -> set[str]:
    """The local addresses the kernel shows listening on TCP ``port`` (from /proc/net/tcp and tcp6)."""
    hosts = set()
    for table in ("tcp", "tcp6"):
        path = pathlib.Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, port_hex = local.partition(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # The kernel prints each 32-bit word in host (little-endian) order.
            packed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            hosts.add(str(ipaddress.ip_address(packed)))
    return hosts


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.skipif(not LINUX_PROC, reason="reads listening sockets from /proc/net/tcp (Linux)")
def test_mailgun_mock_binds_loopback_by_default() -> None:
    """MailgunMock() with no host listens on 127.0.0.1 only, for HTTP and for SMTP."""
    smtp_port = free_port()
    with MailgunMock(smtp_port=smtp_port) as mock:
        assert mock.config.host == "127.0.0.1"
        assert mock.url == f"http://127.0.0.1:{mock.port}"
        assert listening_hosts(mock.port) == {"127.0.0.1"}
        assert listening_hosts(smtp_port) == {"127.0.0.1"}


class Serving:
    """A ``mailgun-mock serve`` child process, with no MAILGUN_MOCK_* variables, and the lines it printed."""

    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILGUN_MOCK_")}
        self.proc = subprocess.Popen([sys.executable, "-m", "mailgun_mock", "serve", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first printed line matching ``pattern`` (waits for it, up to ``timeout`` seconds per line)."""
        seen = []
        while (line := self.lines.get(timeout=timeout)) is not None:
            seen.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"serve ended without printing {pattern!r}: {seen}")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.reader.join(timeout=20)
        self.proc.stdout.close()  # type: ignore[union-attr]


@pytest.mark.skipif(not LINUX_PROC, reason="reads listening sockets from /proc/net/tcp (Linux)")
def test_serve_binds_loopback_by_default() -> None:
    """`mailgun-mock serve` with no --host prints 127.0.0.1 URLs and listens on 127.0.0.1 only, HTTP and SMTP."""
    smtp_port = free_port()
    serving = Serving("--port", "0", "--smtp-port", str(smtp_port))
    try:
        url = serving.read_until(r"serving the Mailgun API on (http://\S+)").group(1)
        host, port = re.fullmatch(r"http://([^:/]+):(\d+)", url).groups()  # type: ignore[union-attr]
        assert host == "127.0.0.1"
        assert serving.read_until(r"SMTP:\s+(\S+) ").group(1) == f"127.0.0.1:{smtp_port}"
        assert listening_hosts(int(port)) == {"127.0.0.1"}
        assert listening_hosts(smtp_port) == {"127.0.0.1"}
    finally:
        serving.close()


# --------------------------------------------------------------------------- storage keys

BASE64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_storage_keys_are_unguessable() -> None:
    """Storage keys of stored, forwarded and sent messages carry at least 128 random bits: long, base64url, unique."""
    backend = Backend(Config())
    try:
        backend.create_route("catch_all()", ["store()", 'forward("copy@example.org")'])
        answers = [backend.receive_inbound(f"From: a@example.net\r\nTo: b@example.com\r\nSubject: {n}\r\n\r\nx".encode())
                   for n in range(500)]
        for n in range(20):
            backend.send_message("example.com", MultiDict([("from", "a@example.com"), ("to", "b@example.net"),
                                                           ("subject", str(n)), ("text", "x")]), [])
        answered = [a["storage"]["key"] for answer in answers for a in answer["recipients"][0]["actions"]]
        keys = [message.key for message in backend.store.messages()]
    finally:
        backend.close()
    assert len(answered) == 1000 and set(answered) <= set(keys) and len(keys) == 1020
    assert len(set(keys)) == len(keys)
    for key in keys:
        assert set(key) <= BASE64URL and len(key) * 6 >= 128, key
    # Every symbol shows up: the 6 bits a character could carry are really used (a hex key would fail here).
    assert set("".join(keys)) == BASE64URL


# --------------------------------------------------------------------------- bounded path values

BAD_INDEXES = ["-1", "1", "99999999999999999999999999999999", "abc", "1e3", "0x0", " 0", "0 ", "+0", "💥", "é",
               "\u202e0", "%00", "٣"]
NON_ASCII_DIGITS = ["٠", "０"]  # Arabic-Indic and fullwidth zero: str.isdigit and int() take them
BAD_TOKENS = ["-1", "0", "9" * 5000, "abc", "!!!", "é", "٣", "²", "💥", "%00", "a" * 60_000]
ONE_ATTACHMENT = (b"From: a@example.net\r\nTo: b@example.com\r\nSubject: one file\r\nMIME-Version: 1.0\r\n"
                  b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                  b"--XX\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF-1.4\r\n--XX--\r\n")


@pytest.fixture
def stored_key(api: Api) -> str:
    """The key of a stored message (on example.com) with exactly one attachment, index 0."""
    api.backend.create_route("catch_all()", ["store()"])
    answer = api.post("/mock/inbound", data=ONE_ATTACHMENT, headers={"Content-Type": "message/rfc822"}).json()
    key: str = answer["recipients"][0]["actions"][0]["storage"]["key"]
    assert api.get(f"/v3/domains/example.com/messages/{key}/attachments/0").content == b"%PDF-1.4"
    return key


def short_id(value: str) -> str:
    return ascii(value) if len(value) <= 20 else f"{ascii(value[:8])}x{len(value)}"


def assert_bounded(reply: Any) -> None:
    assert reply.status in (400, 404), (reply.status, reply.content[:200])
    assert isinstance(reply.json()["message"], str)


@pytest.mark.parametrize("index", [
    *BAD_INDEXES,
    "9" * 5000,
    "²",
    *NON_ASCII_DIGITS,
], ids=short_id)
def test_attachment_index_out_of_range_is_404(api: Api, stored_key: str, index: str) -> None:
    """An attachment index that is negative, past the end, huge, not digits or not ASCII is a 404/400, never a 5xx."""
    assert_bounded(api.get(f"/v3/domains/example.com/messages/{stored_key}/attachments/{index}"))
    assert api.backend.errors == []


@pytest.mark.parametrize("token", BAD_TOKENS, ids=short_id)
def test_events_page_token_garbage_is_400(api: Api, token: str) -> None:
    """A page token that is negative, huge, not base64url, unicode or very long is a 400, never a 5xx."""
    reply = api.get(f"/v3/example.com/events/{token}")
    assert_bounded(reply)
    assert api.backend.errors == []


@pytest.mark.parametrize("value", ["-1", "9" * 5000, "abc", "²", "٠", "💥", "%00"], ids=short_id)
def test_path_ids_out_of_range_are_404(api: Api, value: str) -> None:
    """Route ids, message keys, webhook names and rule ids that name nothing are a 404/400 on every method."""
    api.backend.create_route("catch_all()", ["stop()"])
    for method, path in [("GET", f"/v3/routes/{value}"), ("PUT", f"/v3/routes/{value}"),
                         ("DELETE", f"/v3/routes/{value}"), ("GET", f"/v3/domains/example.com/messages/{value}"),
                         ("DELETE", f"/v3/domains/example.com/messages/{value}"),
                         ("POST", f"/v3/domains/example.com/messages/{value}"),
                         ("GET", f"/v3/domains/example.com/webhooks/{value}"),
                         ("DELETE", f"/v3/domains/example.com/webhooks/{value}"), ("DELETE", f"/mock/rules/{value}")]:
        assert_bounded(api.request(method, path))
    assert api.backend.errors == []


# --------------------------------------------------------------------------- log lines


def raw_exchange(mock: MailgunMock, request: bytes) -> bytes:
    """Send bytes as they are (no client library cleans them) and answer everything the server sent back."""
    with socket.create_connection(("127.0.0.1", mock.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def basic(mock: MailgunMock) -> bytes:
    return b"Basic " + base64.b64encode(f"api:{mock.api_key}".encode())


def send_nasty_request_lines(mock: MailgunMock, receiver: Any) -> None:
    """Request lines, header names and values carrying raw controls and escaped ones."""
    for request in [
        b"GET /v3/\x1b[31mroutes\x00\x07 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /v3/%1b[2J%0d%0aFAKE%00/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"G\x1bET /mock/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /mock/health HTTP/1.1\r\nHost: localhost\r\nX-Evil: \x1b[2J\x00\x85\r\nUser-Agent: a\rb\r\nConnection: close\r\n\r\n",
        b"GET /v3/routes HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + basic(mock) + b"\x1b\x00\r\nConnection: close\r\n\r\n",
        b"GET /v3/routes?limit=%1b%0d%0a HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + basic(mock)
        + b"\r\nConnection: close\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",  # a TLS hello on the plain port
    ]:
        raw_exchange(mock, request)


def send_nasty_form_values(mock: MailgunMock, receiver: Any) -> None:
    """Form fields and query values of ordinary API calls carrying controls."""
    session = mock.session
    session.post(f"{mock.url}/v3/routes", data={"expression": f"bad{NASTY}", "action": f"stop(){NASTY}",
                                                "description": NASTY}, timeout=10)
    session.get(f"{mock.url}/v3/routes/{NASTY}", params={"skip": NASTY}, timeout=10)
    session.post(f"{mock.url}/mock/inbound", data={"from": f"Eve{NASTY} <eve@example.net>", "to": "b@example.com",
                                                   "subject": NASTY, "text": NASTY, "h:X-Evil": NASTY}, timeout=10)
    session.post(f"{mock.url}/mock/inbound", data={"recipient": f"b{NASTY}@example.com"},
                 files={"message": ("m.eml", b"Subject: x\r\n\r\nx")}, timeout=10)
    session.get(f"{mock.url}/v3/example.com/events", params={"event": NASTY, "begin": NASTY}, timeout=10)


def create_route_with_controls(mock: MailgunMock, receiver: Any) -> None:
    """A valid filter holding controls inside its pattern and as separators (whitespace to the parser)."""
    reply = mock.session.post(f"{mock.url}/v3/routes", timeout=10, data={
        "expression": 'match_header("X-\x1b[31m", "\x1b\\[2J\x00.*") or catch_all()\x85\u2028\x0b\t', "action": "stop()"})
    assert reply.status_code < 500, reply.text  # refusing the controls would do as well as escaping them


def forward_to_url_with_controls(mock: MailgunMock, receiver: Any) -> None:
    """A forward() URL holding controls, attempted once (at the local receiver)."""
    receiver.expect_request(re.compile("/in.*")).respond_with_data("ok")
    url = f"http://127.0.0.1:{receiver.port}/in\x1b[2J\x00\x85"
    reply = mock.session.post(f"{mock.url}/v3/routes", data={"expression": "catch_all()",
                                                             "action": f'forward("{url}")'}, timeout=10)
    assert reply.status_code < 500, reply.text
    if reply.status_code == 200:  # refusing the URL would do as well as escaping it
        mock.inject(b"From: a@example.net\r\nTo: b@example.com\r\nSubject: x\r\n\r\nx")
        assert len(mock.deliveries) == 1


def send_mime_with_control_message_id(mock: MailgunMock, receiver: Any) -> None:
    """messages.mime of a message whose Message-Id encoded word decodes to controls."""
    mime = (b"From: a@example.net\r\nTo: b@example.com\r\nMessage-Id: =?utf-8?q?=1B[31m=00x=0D=0Ay?=\r\n"
            b"Subject: hi\r\n\r\nbody\r\n")
    reply = mock.session.post(f"{mock.url}/v3/example.com/messages.mime", data={"to": "b@example.com"},
                              files={"message": ("m.eml", mime)}, timeout=10)
    assert reply.status_code < 500, reply.text  # refusing the Message-Id would do as well as escaping it


def fail_with_controls_in_the_path(mock: MailgunMock, receiver: Any) -> None:
    """An internal error (forced here) on a path whose escapes decode to controls."""
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("forced failure")

    mock.backend.list_events = boom  # type: ignore[method-assign]
    try:
        assert mock.session.get(f"{mock.url}/v3/%1b[2J%0d%0aFAKE%00/events", timeout=10).status_code == 500
    finally:
        del mock.backend.list_events
    mock.backend.errors.clear()


@pytest.mark.parametrize("scenario", [
    send_nasty_request_lines,
    send_nasty_form_values,
    create_route_with_controls,
    forward_to_url_with_controls,
    send_mime_with_control_message_id,
    fail_with_controls_in_the_path,
], ids=lambda f: f.__name__)
def test_log_records_hold_no_raw_control_characters(mailgun_mock: MailgunMock, receiver: Any,
                                                    caplog: pytest.LogCaptureFixture,
                                                    scenario: Callable[[MailgunMock, Any], None]) -> None:
    """Whatever controls a request carries, no mailgun_mock log record's message holds one raw."""
    caplog.set_level(logging.DEBUG, logger="mailgun_mock")
    scenario(mailgun_mock, receiver)
    records = [r for r in caplog.records if r.name.split(".")[0] == "mailgun_mock"]
    assert records, "the scenario logged nothing: the check would be vacuous"
    dirty = [(r.name, r.getMessage()) for r in records if raw_controls(r.getMessage())]
    assert dirty == []


# --------------------------------------------------------------------------- response headers


def with_attachment(part_headers: bytes) -> bytes:
    """A stored-message candidate whose one attachment part has the given header lines."""
    return (b"From: a@example.net\r\nTo: b@example.com\r\nSubject: file\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
            b"--XX\r\n" + part_headers + b"\r\n\r\nDATA\r\n--XX--\r\n")


def fetch_attachment(mock: MailgunMock, raw: bytes) -> tuple[bytes, list[bytes], bytes]:
    """Store ``raw``, GET its attachment 0 over a raw socket: the status line, the header lines, the body."""
    mock.create_route("catch_all()", "store()")
    key = mock.inject(raw)["recipients"][0]["actions"][0]["storage"]["key"]
    response = raw_exchange(mock, b"GET /v3/domains/example.com/messages/" + key.encode() + b"/attachments/0 HTTP/1.1"
                            b"\r\nHost: localhost\r\nAuthorization: " + basic(mock) + b"\r\nConnection: close\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    status, *headers = head.split(b"\r\n")
    return status, headers, body


@pytest.mark.parametrize("disposition", [
    b"Content-Disposition: attachment; filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20a%3Db%0D%0A%0D%0Ainjected",
    b"Content-Disposition: attachment; filename=\"=?utf-8?b?" + base64.b64encode(b"evil\r\nSet-Cookie: a=b") + b"?=\"",
    b"Content-Disposition: attachment; filename=\"=?utf-8?q?evil=0D=0ASet-Cookie:_a=3Db=1B=00?=\"",
    b"Content-Disposition: attachment; filename=\"evil\rSet-Cookie: a=b\"",
], ids=["rfc2231", "rfc2047-b", "rfc2047-q", "bare-cr"])
def test_attachment_filename_stays_inside_content_disposition(mailgun_mock: MailgunMock, disposition: bytes) -> None:
    """A filename decoding to CR/LF and other controls can't split Content-Disposition or add a header."""
    status, headers, body = fetch_attachment(mailgun_mock, with_attachment(b"Content-Type: application/pdf\r\n"
                                                                           + disposition))
    assert status.startswith(b"HTTP/1.1 200")
    names = [line.partition(b":")[0].lower() for line in headers]
    assert b"set-cookie" not in names and names.count(b"content-disposition") == 1
    assert all(re.fullmatch(rb"[\x20-\x7e]*", line) for line in headers), headers
    assert body == b"DATA"


@pytest.mark.parametrize("content_type", [
    pytest.param(b"text/x\rSet-Cookie: a=b"),
    pytest.param(b"application/x\x00y\x1b[2J\x0bz"),
    pytest.param("application/x-€".encode()),
], ids=["bare-cr", "nul-esc-vt", "beyond-latin1"])
def test_attachment_content_type_is_served_clean(mailgun_mock: MailgunMock, content_type: bytes) -> None:
    """An attachment's odd Content-Type is answered (no 5xx, no dropped connection) with a printable ASCII header."""
    status, headers, _ = fetch_attachment(mailgun_mock, with_attachment(b"Content-Type: " + content_type))
    assert status.startswith(b"HTTP/1.1 200"), (status, headers)
    assert all(re.fullmatch(rb"[\x20-\x7e]*", line) for line in headers), headers
    assert b"set-cookie" not in [line.partition(b":")[0].lower() for line in headers]


# --------------------------------------------------------------------------- authentication walk


def url_rules(config: Config) -> set[tuple[str, str]]:
    """Every (method, endpoint) an app built with ``config`` serves, OPTIONS aside (answered for any rule)."""
    app = create_app(Backend(config))
    return {(method, rule.endpoint) for rule in app.url_map.iter_rules() for method in rule.methods or ()
            if method != "OPTIONS"}


@pytest.mark.parametrize("config", [Config(), Config(domains=("example.com",), public_url="https://mg.example.test",
                                                     api_key="key-other")], ids=["default", "configured"])
def test_auth_walk_covers_every_url_rule(config: Config) -> None:
    """test_app's ENDPOINTS names every (method, endpoint) the app serves, and each walked path routes to its endpoint."""
    walked = {(method, endpoint) for method, _, endpoint in ENDPOINTS}
    assert url_rules(config) - walked == set()
    urls = create_app(Backend(config)).url_map.bind("localhost")
    misrouted = []
    for method, path, endpoint in ENDPOINTS:
        if method == "OPTIONS":
            continue
        try:
            found = urls.match(path, method=method)[0]
        except HTTPException as exc:
            found = repr(exc)
        if found != endpoint:
            misrouted.append((method, path, endpoint, found))
    assert misrouted == []


def test_auth_walk_exempts_only_health_and_unsubscribe_links(mailgun_mock: MailgunMock) -> None:
    """The walk lets only health and the signed unsubscribe links (which a mail's recipient follows, as
    Mailgun's do) through without a key, and it covers every rule of the served app too."""
    assert PUBLIC_ENDPOINTS == {"mock.health", "mock.unsubscribe"}
    served = {(method, rule.endpoint) for rule in mailgun_mock.app.url_map.iter_rules() for method in rule.methods or ()
              if method != "OPTIONS"}
    assert served <= {(method, endpoint) for method, _, endpoint in ENDPOINTS}
