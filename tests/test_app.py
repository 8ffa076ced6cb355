"""The app: Mailgun's auth on every endpoint, and JSON errors that never become a 500."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from mailgun_mock.http.inbox import is_ui_endpoint
from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.http.api.mock import PUBLIC_ENDPOINTS, UI_ENDPOINTS
from mailgun_mock.http.app import create_app
from tests.conftest import Api


def every_endpoint() -> list[tuple[str, str, str]]:
    """(method, path, endpoint) for every rule in the app's URL map, with sample path values."""
    app = create_app(Backend(Config()))
    cases = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "sample").replace(f"<path:{arg}>", "sample").replace(f"<int:{arg}>", "0")
        for method in sorted(rule.methods or ()):
            cases.append((method, path, rule.endpoint))
    return cases


ENDPOINTS = every_endpoint()
BAD_CREDENTIALS = [
    None,
    ("api", "wrong-key"),
    ("apix", Config().api_key),
    ("API", Config().api_key),
    ("api", ""),
    ("api", "clé-non-ascii"),
]


def test_url_map_is_not_empty() -> None:
    """The walk below sees the Mailgun and mock endpoints (guards against an empty parametrization)."""
    endpoints = {e for _, _, e in ENDPOINTS}
    assert {"routes.create_route", "routes_v2.list_routes", "mock.reset", "mock.health"} <= endpoints


def _assert_forbidden(reply: Any, method: str, endpoint: str, backend: Backend) -> None:
    if endpoint in PUBLIC_ENDPOINTS:
        assert reply.status != 401  # health, and unsubscribe links (a recipient's click, signed)
        return
    if is_ui_endpoint(endpoint, UI_ENDPOINTS):  # open to this machine, or --ui-auth: tests/test_inbox_api.py
        assert reply.status < 500 and backend.store.routes() == []
        return
    assert reply.status == 401
    assert reply.content == (b"" if method == "HEAD" else b"Forbidden")
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="MG API"'
    assert backend.store.routes() == []


def test_every_endpoint_refuses_a_missing_key(api: Api) -> None:
    """Every endpoint but the public ones answers a missing key exactly as Mailgun: 401 text 'Forbidden'."""
    for method, path, endpoint in ENDPOINTS:
        reply = api.request(method, path, auth=None, data={"expression": "catch_all()", "action": "stop()"})
        _assert_forbidden(reply, method, endpoint, api.backend)


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS[1:], ids=lambda c: f"{c[0]}:{c[1][:5]}")
def test_every_endpoint_refuses_bad_credentials(credentials: Any) -> None:
    """Every endpoint but the public ones answers a wrong key or user exactly as Mailgun (test client: the
    missing-key test above covers the real server too)."""
    backend = Backend(Config())
    app = create_app(backend)
    app.testing = False
    client = Api("test_client", backend, "", app.test_client())
    for method, path, endpoint in ENDPOINTS:
        reply = client.request(method, path, auth=credentials, data={"expression": "catch_all()", "action": "stop()"})
        _assert_forbidden(reply, method, endpoint, backend)


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(), "Digest x"])
def test_malformed_authorization_header_is_forbidden(api: Api, header: str) -> None:
    """An Authorization header that is not valid Basic auth is a 401, not a 500."""
    reply = api.get("/v3/routes", auth=None, headers={"Authorization": header})
    assert (reply.status, reply.content) == (401, b"Forbidden")


def test_unknown_path_checks_auth_first(api: Api) -> None:
    """Auth is checked before anything else, even before finding the endpoint."""
    assert api.get("/v3/nowhere", auth=None).status == 401
    assert api.get("/v3/nowhere").status == 404


def test_health_needs_no_key(api: Api) -> None:
    """GET /mock/health answers 200 without credentials."""
    reply = api.get("/mock/health", auth=None)
    body = reply.json()
    listeners = {"http": body.pop("http"), "smtp": body.pop("smtp"), "smtp_submission": body.pop("smtp_submission")}
    assert (reply.status, body) == (200, {"status": "ok", "routes": 0, "stored_messages": 0, "events": 0,
                                          "evicted": {"messages": 0, "events": 0}})
    if api.transport == "http":  # served by MailgunMock: it says where it listens
        assert listeners == {"http": {"url": api.url, "port": int(api.url.rpartition(":")[2])}, "smtp": None,
                             "smtp_submission": None}
    else:  # a bare app has no listeners of its own
        assert listeners == {"http": {}, "smtp": None, "smtp_submission": None}


def test_reset_forgets_routes(api: Api) -> None:
    """POST /mock/reset forgets every route."""
    api.post("/v3/routes", data={"expression": "catch_all()", "action": "stop()"})
    assert api.post("/mock/reset").json() == {"message": "Mock state has been reset"}
    assert api.get("/v3/routes").json()["total_count"] == 0


def test_clock_advances_and_reset_returns_to_real_time(api: Api) -> None:
    """POST /mock/clock moves the mock's clock forward; reset brings it back to real time."""
    before = api.get("/mock/clock").json()
    after = api.post("/mock/clock", json={"advance": 3600}).json()
    assert after["offset"] == 3600
    assert after["now"] - before["now"] >= 3600
    api.post("/mock/reset")
    assert api.get("/mock/clock").json()["offset"] == 0


@pytest.mark.parametrize("body", [{"advance": -1}, {"advance": "soon"}, {"advance": None}, {}, {"advance": "nan"}, {"advance": "inf"}])
def test_clock_refuses_bad_advance(api: Api, body: dict) -> None:
    """A negative, infinite or non-numeric advance is a 400 and the clock does not move."""
    reply = api.post("/mock/clock", json=body)
    assert reply.status == 400
    assert "'advance' must be a non-negative number of seconds" in reply.json()["message"]
    assert api.get("/mock/clock").json()["offset"] == 0


def test_route_created_on_mock_clock(api: Api) -> None:
    """Routes are dated by the mock's clock, so an advanced clock shows in created_at."""
    api.post("/mock/clock", json={"advance": 86400 * 365})
    route = api.post("/v3/routes", data={"expression": "catch_all()", "action": "stop()"}).json()["route"]
    assert int(route["id"][:8], 16) >= int(api.get("/mock/clock").json()["now"]) - 5


def test_app_url_building_works_with_builders_compiled_on_first_use() -> None:
    """The app's rules compile their URL builders lazily (create_app's cost); url_for still builds
    every rule's URL, with and without extra query arguments."""
    from flask import url_for

    app = create_app()
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            values = {name: "x1" for name in rule.arguments if name not in (rule.defaults or {})}
            expected = re.sub(r"<(?:[^:>]+:)?[^>]+>", "x1", rule.rule)
            assert url_for(rule.endpoint, **values) == expected
            assert url_for(rule.endpoint, **values, page="2") == expected + "?page=2"
