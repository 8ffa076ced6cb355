"""Shared fixtures: every API test runs twice, through Flask's test client and over real HTTP."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import settings

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.edges.server import MailgunMock
from mailgun_mock.http.app import create_app
from tests.shapes import RECORDER, served_documented_paths

pytest_plugins = ["pytester"]

# No timing asserts in the suite: hypothesis's per-example deadline (200 ms) fails tests on a busy
# machine (a first example that imports or warms a cache), which says nothing about the behaviour.
settings.register_profile("mailgun_mock", deadline=None)
settings.load_profile("mailgun_mock")


@dataclasses.dataclass
class Reply:
    """One HTTP answer, the same shape whichever transport carried it."""

    status: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    def json(self) -> Any:
        import json

        return json.loads(self.content)


class Api:
    """A tiny client for the mock's HTTP surface, authenticated unless told otherwise.

    :param transport: ``"test_client"`` (Flask's, in-process) or ``"http"`` (the real threaded server).
    """

    def __init__(self, transport: str, backend: Backend, url: str, test_client: Any = None) -> None:
        self.transport = transport
        self.backend = backend
        self.url = url
        self.auth: tuple[str, str] | None = ("api", backend.config.api_key)
        self._client = test_client
        self._session = requests.Session()

    def request(self, method: str, path: str, *, auth: Any = "default", **kwargs: Any) -> Reply:
        auth = self.auth if auth == "default" else auth
        if self.transport == "http":
            r = self._session.request(method, self.url + path, auth=auth, timeout=10, **kwargs)
            reply = Reply(r.status_code, dict(r.headers), r.content)
        else:
            # Build the request with requests, so both transports send byte-identical bodies.
            prepared = requests.Request(method, "http://localhost" + path, auth=auth, **kwargs).prepare()
            headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
            body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
            answer = self._client.open(prepared.path_url, method=method, headers=headers, data=body or b"")
            reply = Reply(answer.status_code, dict(answer.headers), answer.get_data())
        problems = RECORDER.check(method, path, reply.status, reply.headers.get("Content-Type", ""), reply.content)
        assert not problems, "answer does not match Mailgun's document: " + "; ".join(problems)
        return reply

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Reply:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Reply:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def backend() -> Backend:
    """A fresh backend with the default config."""
    return Backend(Config())


@pytest.fixture(params=["test_client", "http"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The mock's HTTP API, once through Flask's test client and once through the real server."""
    if request.param == "http":
        mock: MailgunMock = request.getfixturevalue("mailgun_mock")
        yield Api("http", mock.backend, mock.url)
    else:
        backend = Backend(Config())
        app = create_app(backend)
        app.testing = False  # exercise the real error handlers, as the server does
        yield Api("test_client", backend, "", app.test_client())



@pytest.fixture
def receiver(httpserver: Any) -> Iterator[Any]:
    """pytest-httpserver's server as the application's webhook endpoint; closes what it received."""
    yield httpserver
    for received, _ in httpserver.log:
        received.close()  # their spooled upload files


_WORKER_SHAPES: list[dict[str, Any]] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    """xdist workers hand their shape-check figures to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["mailgun_mock_shapes"] = json.dumps(RECORDER.to_json())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The controller collects each worker's shape-check figures."""
    data = getattr(node, "workeroutput", {}).get("mailgun_mock_shapes")
    if data:
        _WORKER_SHAPES.append(json.loads(data))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """One line: Mailgun's paths served, answers validated against its document, mismatches."""
    if hasattr(config, "workerinput"):
        return
    totals = RECORDER.to_json()
    for data in _WORKER_SHAPES:
        totals["validated"] += data["validated"]
        totals["mismatches"] += data["mismatches"]
        totals["exercised"] = sorted(set(totals["exercised"]) | set(data["exercised"]))
    if not totals["validated"]:
        return
    served, documented = served_documented_paths()
    terminalreporter.write_line(
        f"shape check: paths served {len(served)} / {documented}, responses validated {totals['validated']} "
        f"({len(totals['exercised'])} operations), mismatches {len(totals['mismatches'])}")
