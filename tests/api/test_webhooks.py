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


V4 = "/v4/domains/example.com/webhooks"


def test_v4_webhooks_add_replace_and_delete_a_url(api: Api) -> None:
    """v4 puts one URL on many event types, PUT makes them exactly these, DELETE takes URLs off every type."""
    added = api.post(V4, data={"url": "https://app.example/h", "event_types": ["delivered", "opened"]}).json()
    assert added == {"webhooks": {"delivered": {"urls": ["https://app.example/h"]},
                                  "opened": {"urls": ["https://app.example/h"]}}}
    dup = api.post(V4, data={"url": "https://app.example/h", "event_types": "delivered"})
    assert dup.status == 400 and "already exists" in dup.json()["Reason"]
    replaced = api.put(V4, data={"url": "https://app.example/h", "event_types": "clicked,opened"}).json()
    assert replaced == {"webhooks": {"clicked": {"urls": ["https://app.example/h"]},
                                     "opened": {"urls": ["https://app.example/h"]}}}
    assert api.get(BASE).json() == replaced  # the same registry as the v3 API
    assert api.delete(V4, params={"url": "https://app.example/h"}).json() == {"webhooks": {}}


def test_webhook_test_posts_a_signed_sample_and_reports_the_status(api: Api, receiver) -> None:
    """The test endpoint POSTs a signed sample event of the webhook's kind and answers the receiver's status."""
    receiver.expect_request("/hook").respond_with_data("nope", status=418)
    api.post(BASE, data={"id": "permanent_fail", "url": receiver.url_for("/hook")})
    answer = api.put(f"{BASE}/permanent_fail/test").json()
    assert answer["code"] == 418
    payload = json.loads(receiver.log[0][0].get_data())
    assert payload["event-data"]["event"] == "failed" and payload["event-data"]["severity"] == "permanent"
    sig = payload["signature"]
    assert sig["signature"] == hmac.new(api.backend.signing_key().encode(), (sig["timestamp"] + sig["token"]).encode(),
                                        hashlib.sha256).hexdigest()
    refused = api.put(f"{BASE}/delivered/test", data={"url": "http://127.0.0.1:9/none"}).json()
    assert refused["code"] == 0


def test_account_webhooks_crud_and_the_limit_of_three(api: Api) -> None:
    """Account webhooks are created, read, updated and deleted; a fourth URL for an event type is a 409."""
    ids = [api.post("/v1/webhooks", data={"url": f"https://app.example/{n}", "event_types": ["delivered"],
                                          "description": f"hook {n}"}).json()["webhook_id"] for n in range(3)]
    fourth = api.post("/v1/webhooks", data={"url": "https://app.example/3", "event_types": "delivered"})
    assert fourth.status == 409
    one = api.get(f"/v1/webhooks/{ids[0]}").json()
    assert (one["url"], one["event_types"], one["description"]) == ("https://app.example/0", ["delivered"], "hook 0")
    assert api.put(f"/v1/webhooks/{ids[0]}", data={"url": "https://app.example/0b", "event_types": "opened"}).status == 200
    assert [w["url"] for w in api.get("/v1/webhooks").json()["webhooks"]] == [
        "https://app.example/0b", "https://app.example/1", "https://app.example/2"]
    assert api.delete(f"/v1/webhooks/{ids[1]}").status == 200
    assert api.get(f"/v1/webhooks/{ids[1]}").status == 404
    assert api.delete("/v1/webhooks", params={"all": "true"}).status == 200
    assert api.get("/v1/webhooks").json() == {"webhooks": []}


def test_account_and_domain_webhook_urls_get_each_event_once(mailgun_mock: MailgunMock, receiver) -> None:
    """A URL registered at domain and account level gets each event once; account-only URLs get it too."""
    receiver.expect_request("/both").respond_with_data("ok")
    receiver.expect_request("/account").respond_with_data("ok")
    session, url = mailgun_mock.session, mailgun_mock.url
    session.post(f"{url}{BASE}", data={"id": "delivered", "url": receiver.url_for("/both")})
    session.post(f"{url}/v1/webhooks", data={"url": receiver.url_for("/both"), "event_types": "delivered"})
    session.post(f"{url}/v1/webhooks", data={"url": receiver.url_for("/account"), "event_types": "delivered"})
    session.post(f"{url}/v3/example.com/messages", data={"from": "a@example.com", "to": "b@x.example",
                                                         "subject": "s", "text": "t"})
    mailgun_mock.wait_for_deliveries(2, outcome="delivered")
    mailgun_mock.settle()
    assert sorted(r.path for r, _ in receiver.log) == ["/account", "/both"]


def test_event_webhooks_retry_on_their_own_schedule(mailgun_mock: MailgunMock, receiver) -> None:
    """An event webhook is retried 5 minutes after a failure (Mailgun's event schedule), a forward after 10."""
    receiver.expect_request("/down").respond_with_data("no", status=503)
    mailgun_mock.backend.create_webhook("example.com", "accepted", [receiver.url_for("/down")])
    mailgun_mock.create_route("catch_all()", f'forward("{receiver.url_for("/down")}")')
    mailgun_mock.inject(from_="a@example.net", to=["b@example.com"], text="x")
    mailgun_mock.wait_for_deliveries(2)
    mailgun_mock.advance_clock(301)
    kinds = [a["kind"] for a in mailgun_mock.deliveries]
    assert kinds.count("webhook:accepted") == 2 and kinds.count("forward") == 1
    first = next(a for a in mailgun_mock.deliveries if a["kind"] == "webhook:accepted")
    assert first["next_retry"] - first["scheduled_at"] == 300
