"""Domain webhooks: the v3 CRUD API, and events POSTed as signed JSON to the registered URLs."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from mailgun_mock import MailgunMock
from tests.conftest import Api

BASE = "/v3/domains/example.com/webhooks"


def test_webhook_crud(api: Api) -> None:
    """Create, read, list, update and delete answer Mailgun's shapes and messages."""
    created = api.post(BASE, data={"id": "delivered", "url": ["https://app.example/a", "https://app.example/b"]})
    assert created.json() == {"message": "Webhook has been created",
                              "webhook": {"urls": ["https://app.example/a", "https://app.example/b"]}}
    api.post(BASE, data={"id": "opened", "url": "https://app.example/o"})
    assert api.get(BASE).json() == {"webhooks": {"delivered": {"urls": ["https://app.example/a", "https://app.example/b"]},
                                                 "opened": {"urls": ["https://app.example/o"]}}}
    assert api.get(f"{BASE}/opened").json() == {"webhook": {"urls": ["https://app.example/o"]}}
    updated = api.put(f"{BASE}/opened", data={"url": "https://app.example/o2"})
    assert updated.json() == {"message": "Webhook has been updated", "webhook": {"urls": ["https://app.example/o2"]}}
    deleted = api.delete(f"{BASE}/opened")
    assert deleted.json() == {"message": "Webhook has been deleted", "webhook": {"urls": ["https://app.example/o2"]}}
    assert api.get(f"{BASE}/opened").status == 404
    assert list(api.get(BASE).json()["webhooks"]) == ["delivered"]


@pytest.mark.parametrize(("data", "fragment"), [
    ({"url": "https://a.example/"}, "'id' parameter is missing"),
    ({"id": "bounced", "url": "https://a.example/"}, "Webhook id must be one of"),
    ({"id": "delivered"}, "'url' parameter is missing"),
    ({"id": "delivered", "url": "ftp://a.example/"}, "is not a valid url"),
    ({"id": "delivered", "url": "https://a.example/ x"}, "is not a valid url"),
    ({"id": "delivered", "url": [f"https://a.example/{i}" for i in range(4)]}, "at most 3"),
])
def test_webhook_create_refuses_bad_input(api: Api, data: dict, fragment: str) -> None:
    """Bad webhook input is a 400 saying what is wrong, and nothing is registered."""
    reply = api.post(BASE, data=data)
    assert reply.status == 400
    assert fragment in reply.json()["message"]
    assert api.get(BASE).json() == {"webhooks": {}}


def test_webhook_create_twice_and_unknown_are_refused(api: Api) -> None:
    """Creating an existing webhook is a 400; updating or deleting a missing one a 404."""
    api.post(BASE, data={"id": "clicked", "url": "https://a.example/"})
    assert api.post(BASE, data={"id": "clicked", "url": "https://b.example/"}).status == 400
    assert api.put(f"{BASE}/opened", data={"url": "https://b.example/"}).json() == {"message": "Webhook not found"}
    assert api.delete(f"{BASE}/opened").status == 404


def test_webhooks_are_per_domain(api: Api) -> None:
    """A webhook registered for one domain is not listed for another."""
    api.post(BASE, data={"id": "clicked", "url": "https://a.example/"})
    assert api.get("/v3/domains/other.example/webhooks").json() == {"webhooks": {}}


def test_event_webhook_posts_signed_json(mailgun_mock: MailgunMock, receiver) -> None:
    """Routed mail's events reach the domain's webhooks as JSON {signature, event-data}, validly signed."""
    receiver.expect_request("/accepted").respond_with_data("ok")
    receiver.expect_request("/delivered").respond_with_data("ok")
    receiver.expect_request("/app").respond_with_data("ok")
    session = mailgun_mock.session
    session.post(f"{mailgun_mock.url}{BASE}", data={"id": "accepted", "url": receiver.url_for("/accepted")})
    session.post(f"{mailgun_mock.url}{BASE}", data={"id": "delivered", "url": receiver.url_for("/delivered")})
    mailgun_mock.create_route("catch_all()", f'forward("{receiver.url_for("/app")}")')
    mailgun_mock.inject(from_="a@example.net", to=["b@example.com"], subject="Hi", text="x")
    mailgun_mock.wait_for_deliveries(3, outcome="delivered")
    bodies = {r.path: r for r, _ in receiver.log}
    for path, kind in (("/accepted", "accepted"), ("/delivered", "delivered")):
        request = bodies[path]
        assert request.mimetype == "application/json"
        payload = json.loads(request.get_data())
        sig = payload["signature"]
        expected = hmac.new(mailgun_mock.signing_key.encode(), (sig["timestamp"] + sig["token"]).encode(),
                            hashlib.sha256).hexdigest()
        assert sig["signature"] == expected and isinstance(sig["timestamp"], str)
        assert payload["event-data"]["event"] == kind
        assert payload["event-data"]["recipient"] == "b@example.com"
    kinds = sorted(a["kind"] for a in mailgun_mock.deliveries)
    assert kinds == ["forward", "webhook:accepted", "webhook:delivered"]


def test_event_webhook_for_failures_splits_by_severity(mailgun_mock: MailgunMock, receiver) -> None:
    """A failed forward goes to temporary_fail while retries remain and to permanent_fail at the end."""
    receiver.expect_request("/down").respond_with_data("no", status=503)
    receiver.expect_request("/temp").respond_with_data("ok")
    receiver.expect_request("/perm").respond_with_data("ok")
    mailgun_mock.backend.create_webhook("example.com", "temporary_fail", [receiver.url_for("/temp")])
    mailgun_mock.backend.create_webhook("example.com", "permanent_fail", [receiver.url_for("/perm")])
    mailgun_mock.create_route("catch_all()", f'forward("{receiver.url_for("/down")}")')
    mailgun_mock.inject(from_="a@example.net", to=["b@example.com"], text="x")
    mailgun_mock.advance_clock(9 * 3600)
    paths = [r.path for r, _ in receiver.log]
    assert paths.count("/down") == 8 and paths.count("/temp") == 7 and paths.count("/perm") == 1
