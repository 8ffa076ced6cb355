"""mailgun_mock.edges.intercept: calls to Mailgun's hosts answered in process, byte for byte as the socket
server answers, with zero configuration for the official SDK, django-anymail, requests, httpx and urllib3,
and nothing ever sent to the real host (every test here resolves no name but loopback)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from typing import Any

import django
import httpx
import pytest
import requests
import urllib3
from django.conf import settings

from mailgun_mock import MailgunMock
from mailgun_mock.base import ids as ids_module
from mailgun_mock.base.ids import ObjectIds
from mailgun_mock.edges import wsgi_server
from mailgun_mock.edges.intercept import IN_PROCESS, InterceptError, Interception

if not settings.configured:  # the configuration tests/test_send_clients.py makes, whichever module comes first
    settings.configure(ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": "set-per-test"}, LOGGING_CONFIG=None)
    django.setup()

from django.core.mail import EmailMessage  # noqa: E402  (Django settings must be configured first)
from django.test import override_settings  # noqa: E402

DOMAIN = "example.com"
US, EU = "https://api.mailgun.net", "https://api.eu.mailgun.net"
FORM = {"from": "Shop <shop@example.com>", "to": "bob@example.net", "subject": "Order 4711", "text": "Thanks!"}


def run_async(make: Any) -> Any:
    """``asyncio.run(make())`` on a thread of its own: the session's Playwright browser (sync API) keeps
    an event loop running in the main thread of a worker that also ran the browser tests."""
    import threading

    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(make()))
        except BaseException as exc:  # handed back to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Resolving any name but loopback fails and is recorded; the test fails if anything was looked up."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "localhost", "::1"):
            looked_up.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: no name is resolved in this test")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    yield looked_up
    assert looked_up == [], "a call left the process for a real host"


def test_intercept_guard_would_catch_an_escaping_call(no_network: list[str]) -> None:
    """Without interception a call to api.mailgun.net fails at name resolution, which the guard records."""
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{US}/v3/{DOMAIN}/messages", data=FORM, timeout=5)
    assert no_network == ["api.mailgun.net"]
    no_network.clear()


# -- zero configuration, through the default fixture ------------------------------------------------


def test_intercept_requests_with_hard_coded_url(mailgun_mock: MailgunMock) -> None:
    """requests posting to https://api.mailgun.net sends through the mock with no URL configured."""
    reply = requests.post(f"{US}/v3/{DOMAIN}/messages", auth=("api", mailgun_mock.api_key), data=FORM, timeout=5)
    assert reply.status_code == 200 and reply.json()["message"] == "Queued. Thank you."
    (sent,) = mailgun_mock.outbox
    assert sent["subject"] == "Order 4711" and sent["id"] == reply.json()["id"]


def test_intercept_official_sdk_default_url(mailgun_mock: MailgunMock) -> None:
    """The official SDK's Client with its default API URL sends through the mock."""
    from mailgun.client import Client

    with Client(auth=("api", mailgun_mock.api_key)) as client:
        reply = client.messages.create(data=FORM, domain=DOMAIN)
    assert reply.status_code == 200
    assert [m["subject"] for m in mailgun_mock.outbox] == ["Order 4711"]


def test_intercept_official_sdk_async_client(mailgun_mock: MailgunMock) -> None:
    """The SDK's AsyncClient (httpx2 underneath) sends through the mock too."""
    from mailgun.client import AsyncClient

    async def send() -> Any:
        async with AsyncClient(auth=("api", mailgun_mock.api_key)) as client:
            return await client.messages.create(data=FORM, domain=DOMAIN)

    assert run_async(send).status_code == 200
    assert [m["to"] for m in mailgun_mock.outbox] == ["bob@example.net"]


def test_intercept_django_anymail_default_url(mailgun_mock: MailgunMock) -> None:
    """django-anymail's Mailgun backend with its default API URL sends through the mock."""
    with override_settings(EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
                           ANYMAIL={"MAILGUN_API_KEY": mailgun_mock.api_key, "MAILGUN_SENDER_DOMAIN": DOMAIN}):
        message = EmailMessage("Welcome", "Hello Ann", "shop@example.com", ["ann@example.org"])
        assert message.send() == 1
    (sent,) = mailgun_mock.assert_sent(to="ann@example.org", subject="Welcome")
    assert message.anymail_status.message_id == sent["id"]  # type: ignore[attr-defined]


def test_intercept_httpx_sync_async_and_urllib3(mailgun_mock: MailgunMock) -> None:
    """httpx (sync and async) and a urllib3 PoolManager reach the mock at both hosts."""
    auth = ("api", mailgun_mock.api_key)
    assert httpx.post(f"{EU}/v3/{DOMAIN}/messages", auth=auth, data=FORM).status_code == 200

    async def list_routes() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(f"{US}/v3/routes", auth=auth)

    assert run_async(list_routes).json() == {"items": [], "total_count": 0}
    with urllib3.PoolManager() as pool:
        reply = pool.request("POST", f"{US}/v3/{DOMAIN}/messages", fields=FORM,
                             headers=urllib3.make_headers(basic_auth=f"api:{mailgun_mock.api_key}"))
    assert reply.status == 200
    assert len(mailgun_mock.outbox) == 2


def test_intercept_unknown_path_answers_the_apps_404(mailgun_mock: MailgunMock) -> None:
    """An unknown path on an intercepted host gets the mock's 404 JSON, as over the socket."""
    reply = requests.get(f"{US}/v4/nowhere", auth=("api", mailgun_mock.api_key), timeout=5)
    assert reply.status_code == 404 and reply.json()["message"] == "Not Found: no endpoint GET /v4/nowhere"


def test_intercept_other_hosts_pass_through(mailgun_mock: MailgunMock, httpserver: Any) -> None:
    """Calls to any other host (here the app's own local server) go out over the network untouched."""
    httpserver.expect_request("/hook").respond_with_data("from the real server")
    url = httpserver.url_for("/hook")
    assert requests.get(url, timeout=5).text == "from the real server"
    assert httpx.get(url).text == "from the real server"
    with urllib3.PoolManager() as pool:
        assert pool.request("GET", url).data == b"from the real server"
    assert requests.get(f"{mailgun_mock.url}/mock/health", timeout=5).json()["status"] == "ok"


@pytest.mark.parametrize("url", ["https://api.mailgun.net:8443/v3/routes", "http://api.mailgun.net:443/v3/routes",
                                 "https://API.Mailgun.net.:80/v3/routes"])
def test_intercept_refuses_what_it_cannot_serve(url: str) -> None:
    """Another port of an intercepted host raises InterceptError in every client, never reaching the network."""
    with MailgunMock().intercept() as interception:
        with pytest.raises(InterceptError, match="not sent to the real host"):
            requests.get(url, timeout=5)
        with pytest.raises(InterceptError):
            httpx.get(url)
        with urllib3.PoolManager() as pool, pytest.raises(InterceptError):
            pool.request("GET", url, retries=False)
    assert len(interception.refused) == 3


def test_intercept_without_a_started_server() -> None:
    """A mock that serves no socket answers in process, and its storage URLs name the intercepted host."""
    mock = MailgunMock()
    mock.create_route("catch_all()", "store()")
    with mock.intercept(), requests.Session() as session:
        session.auth = ("api", mock.api_key)
        mock.inject(from_="a@example.net", to=["b@example.com"], subject="Stored", text="x")
        (event,) = [e for e in mock.events if e["event"] == "stored"]
        assert event["storage"]["url"].startswith(f"{US}/v3/domains/example.com/messages/")
        assert session.get(event["storage"]["url"], timeout=5).json()["subject"] == "Stored"
    assert mock.backend.server_url == ""
    mock.backend.close()


def test_intercept_environ_carries_the_in_process_seam() -> None:
    """The app sees IN_PROCESS set, the request's own Host, scheme and body, as a server would hand them."""
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.update(environ, body=environ["wsgi.input"].read())
        start_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    with Interception(app, ["api.mailgun.net"]):
        reply = requests.put(f"{US}/v3/a%20b/c?x=1&y=%C3%BC", data=b"payload", timeout=5)
    assert (reply.status_code, reply.reason, reply.text) == (201, "Created", "ok")
    assert seen[IN_PROCESS] is True and seen["wsgi.url_scheme"] == "https" and seen["HTTP_HOST"] == "api.mailgun.net"
    assert (seen["PATH_INFO"], seen["QUERY_STRING"], seen["body"]) == ("/v3/a b/c", "x=1&y=%C3%BC", b"payload")


def test_intercept_hooks_are_removed_on_exit() -> None:
    """Leaving the interception puts every patched transport method back."""
    before = (requests.adapters.HTTPAdapter.send, httpx.HTTPTransport.handle_request,
              httpx.AsyncHTTPTransport.handle_async_request, urllib3.HTTPConnectionPool.urlopen)
    with MailgunMock().intercept():
        assert requests.adapters.HTTPAdapter.send is not before[0]
    assert (requests.adapters.HTTPAdapter.send, httpx.HTTPTransport.handle_request,
            httpx.AsyncHTTPTransport.handle_async_request, urllib3.HTTPConnectionPool.urlopen) == before


def run_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported yet); answers its output."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_intercept_hooks_a_library_imported_during_the_interception() -> None:
    """httpx first imported inside the interception is hooked as its import completes, and unhooked after."""
    out = run_python("""
        import sys
        from mailgun_mock import MailgunMock
        mock = MailgunMock()
        with mock.intercept():
            assert "httpx" not in sys.modules
            import httpx
            print(httpx.get("https://api.mailgun.net/mock/health").json()["status"])
        print(httpx.HTTPTransport.handle_request.__qualname__, type(httpx.__spec__.loader).__name__)
        mock.backend.close()
    """)
    assert out.split() == ["ok", "HTTPTransport.handle_request", "SourceFileLoader"]


def test_intercept_works_without_httpx_installed() -> None:
    """With httpx and httpx2 not importable, requests is still intercepted (httpx is imported by nobody)."""
    out = run_python("""
        import sys
        sys.modules["httpx"] = sys.modules["httpx2"] = None  # "not installed"
        import requests
        from mailgun_mock import MailgunMock
        mock = MailgunMock()
        with mock.intercept():
            print(requests.get("https://api.eu.mailgun.net/mock/health", timeout=5).status_code)
        mock.backend.close()
    """)
    assert out.split() == ["200"]


# -- byte-identical to the socket server ------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[MailgunMock]:
    """A mock of its own for the comparisons, on 127.0.0.1."""
    with MailgunMock(port=0) as mock:
        yield mock


@pytest.fixture
def accepted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection the mock's HTTP server accepts during the test."""
    seen: list[Any] = []
    accept = wsgi_server.WsgiServer.get_request

    def counting(server: wsgi_server.WsgiServer) -> Any:
        seen.append(connection := accept(server))
        return connection

    monkeypatch.setattr(wsgi_server.WsgiServer, "get_request", counting)
    return seen


@pytest.fixture
def deterministic(served: MailgunMock, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Frozen clock and Date header, and ids that restart from the same seed at each call of the result."""
    monkeypatch.setattr(served.backend.clock, "_source", lambda: 1736158500.0)  # the Clock's time-source seam
    monkeypatch.setattr(wsgi_server, "http_date", lambda: "Mon, 06 Jan 2025 10:15:00 GMT")
    counter = iter(())

    def restart() -> None:
        nonlocal counter
        counter = iter(range(1, 10**6))
        served.backend.ids = ObjectIds(machine=b"\x01" * 5, counter_start=7)
        served.backend.clock.reset()

    def token(size: int) -> bytes:
        return next(counter).to_bytes(size, "big")

    monkeypatch.setattr(ids_module, "os", types.SimpleNamespace(urandom=token))
    monkeypatch.setattr(ids_module, "secrets", types.SimpleNamespace(
        token_hex=lambda n: token(n).hex(), token_urlsafe=lambda n: token(n).hex()[-32:]))
    restart()
    return restart


RAW = b"From: Ann <ann@example.net>\r\nTo: support@example.com\r\nSubject: Hi\r\nMessage-Id: <m1@example.net>\r\n" \
      b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n" \
      b"Hello\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n\r\n" \
      b"PDF\r\n--B--\r\n"

#: (id, expected status, method, path, request keyword arguments): calls of every endpoint family.
CALLS: list[tuple[str, int, str, str, dict[str, Any]]] = [
    ("health", 200, "GET", "/mock/health", {}),
    ("clock", 200, "GET", "/mock/clock", {}),
    ("clock-advance", 200, "POST", "/mock/clock", {"json": {"advance": 60}}),
    ("deliveries", 200, "GET", "/mock/deliveries", {}),
    ("outbox", 200, "GET", "/mock/outbox", {}),
    ("rules-create", 200, "POST", "/mock/rules", {"json": {"match": {"recipient": "x@example.com"}, "outcome": "bounce"}}),
    ("rules-list", 200, "GET", "/mock/rules", {}),
    ("openapi", 200, "GET", "/mock/openapi.json", {}),
    ("inbound-raw", 200, "POST", "/mock/inbound", {"data": RAW, "headers": {"Content-Type": "message/rfc822"}}),
    ("routes-create", 200, "POST", "/v3/routes", {"data": {"expression": "catch_all()", "action": ["store()"]}}),
    ("routes-list", 200, "GET", "/v3/routes?limit=5", {}),
    ("routes-get", 200, "GET", "/v3/routes/{route}", {}),
    ("routes-update", 200, "PUT", "/v3/routes/{route}", {"data": {"priority": "3"}}),
    ("routes-match", 200, "GET", "/v3/routes/match?address=support@example.com", {}),
    ("routes-delete", 200, "DELETE", "/v3/routes/{route}", {}),
    ("send-form", 200, "POST", f"/v3/{DOMAIN}/messages", {"data": FORM}),
    ("send-multipart", 200, "POST", f"/v3/{DOMAIN}/messages", {"data": FORM, "files": {"attachment": ("a.txt", b"hi")}}),
    ("send-mime", 200, "POST", f"/v3/{DOMAIN}/messages.mime", {"data": {"to": "b@example.net"},
                                                         "files": {"message": ("m.eml", RAW)}}),
    ("send-v2", 200, "POST", f"/v2/{DOMAIN}/messages", {"data": FORM}),
    ("events", 200, "GET", f"/v3/{DOMAIN}/events?limit=3", {}),
    ("suppressions", 200, "GET", f"/v3/{DOMAIN}/bounces", {}),
    ("stored", 200, "GET", "/v3/domains/example.com/messages/{key}", {}),
    ("stored-mime", 200, "GET", "/v3/domains/example.com/messages/{key}", {"headers": {"Accept": "message/rfc2822"}}),
    ("attachment", 200, "GET", "/v3/domains/example.com/messages/{key}/attachments/0", {}),
    ("resend", 200, "POST", "/v3/domains/example.com/messages/{key}", {"data": {"to": "c@example.org"}}),
    ("stored-delete", 200, "DELETE", "/v3/domains/example.com/messages/{key}", {}),
    ("webhooks-create", 200, "POST", f"/v3/domains/{DOMAIN}/webhooks",
     {"data": {"id": "unsubscribed", "url": "http://127.0.0.1:9/h"}}),
    ("webhooks-list", 200, "GET", f"/v3/domains/{DOMAIN}/webhooks", {}),
    ("webhooks-get", 200, "GET", f"/v3/domains/{DOMAIN}/webhooks/complained", {}),
    ("webhooks-update", 200, "PUT", f"/v3/domains/{DOMAIN}/webhooks/complained",
     {"data": {"url": "http://127.0.0.1:9/x"}}),
    ("webhooks-delete", 200, "DELETE", f"/v3/domains/{DOMAIN}/webhooks/complained", {}),
    ("reset", 200, "POST", "/mock/reset", {}),
    ("error-401", 401, "GET", "/v3/routes", {"auth": ("api", "wrong")}),
    ("error-404", 404, "GET", "/v3/no/such/thing", {}),
    ("error-405", 405, "PATCH", "/v3/routes", {}),
    ("error-400", 400, "POST", f"/v3/{DOMAIN}/messages", {"data": {"to": "b@example.net"}}),
    ("head", 200, "HEAD", "/mock/health", {}),
]


def seed(mock: MailgunMock) -> dict[str, str]:
    """The state every comparison starts from: a route, a stored message, a webhook, a sent message."""
    mock.reset()
    route = mock.create_route("catch_all()", "store()")["id"]
    key = mock.inject(RAW)["recipients"][0]["actions"][0]["storage"]["key"]
    # an event no call here causes: no webhook attempt runs in the background, consuming ids mid-comparison
    mock.session.post(f"{mock.url}/v3/domains/{DOMAIN}/webhooks",
                      data={"id": "complained", "url": "http://127.0.0.1:9/"})
    mock.session.post(f"{mock.url}/v3/{DOMAIN}/messages", data=FORM)
    mock.settle()
    return {"route": route, "key": key}


def through(client: str, method: str, url: str, kwargs: dict[str, Any], key: str) -> tuple[Any, ...]:
    """One call through a client library: (status, reason, header pairs in order, body)."""
    kwargs = {"auth": ("api", key), **kwargs}
    if client == "requests":
        reply = requests.request(method, url, timeout=10, **kwargs)
        return reply.status_code, reply.reason, list(reply.raw.headers.items()), reply.content
    if client == "httpx":
        if "json" not in kwargs and "files" not in kwargs and isinstance(kwargs.get("data"), bytes):
            kwargs["content"] = kwargs.pop("data")
        r = httpx.request(method, url, **kwargs)
        return r.status_code, r.reason_phrase, [(k.decode(), v.decode()) for k, v in r.headers.raw], r.content
    prepared = requests.Request(method, url, **kwargs).prepare()  # the same body, sent by urllib3 itself
    with urllib3.PoolManager() as pool:
        raw = pool.request(method, url, body=prepared.body, headers=dict(prepared.headers), retries=False)
    return raw.status, raw.reason, list(raw.headers.items()), raw.data


@pytest.mark.parametrize("client", ["requests", "httpx", "urllib3"])
@pytest.mark.parametrize(("status", "method", "path", "kwargs"), [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_intercept_answers_are_byte_identical_to_the_socket_server(
        served: MailgunMock, deterministic: Callable[[], None], accepted: list[Any], client: str, status: int,
        method: str, path: str, kwargs: dict[str, Any]) -> None:
    """The same call, same state, same ids: status, reason, every header in order and the body are equal,
    and the in-process one opened no connection."""
    url = served.url + path.format(**seed(served))
    state = served.backend.store.snapshot()
    deterministic()
    over_socket = through(client, method, url, kwargs, served.api_key)
    served.settle()
    served.backend.store.restore(state)
    deterministic()
    connections = len(accepted)
    assert connections >= 1
    with served.intercept(hosts=[f"127.0.0.1:{served.port}"]) as interception:
        in_process = through(client, method, url, kwargs, served.api_key)
    assert interception.refused == [] and len(accepted) == connections
    assert over_socket[0] == status and served.backend.errors == [], over_socket
    assert in_process == over_socket
