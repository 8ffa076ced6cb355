"""The official Python SDK (`mailgun` on PyPI) pointed at the real server: routes, suppressions, domains,
templates, mailing lists, webhooks and keys, with the SDK's own bugs marked."""

from __future__ import annotations

import json

import pytest
from mailgun.client import Client

from mailgun_mock import MailgunMock


def test_sdk_routes_crud(mailgun_mock: MailgunMock) -> None:
    """The official SDK creates, lists, reads, matches, updates and deletes routes on the mock."""
    client = Client(auth=("api", mailgun_mock.api_key), api_url=mailgun_mock.url)
    created = client.routes.create(data={
        "priority": 1,
        "description": "Sample route",
        "expression": 'match_recipient(".*@example.com")',
        "action": ['forward("https://app.example/hook")', "stop()"],
    })
    assert created.status_code == 200, created.text
    route = created.json()["route"]
    assert route["actions"] == ['forward("https://app.example/hook")', "stop()"]

    listed = client.routes.get(filters={"skip": 0, "limit": 10}).json()
    assert listed["total_count"] == 1 and listed["items"][0]["id"] == route["id"]
    assert client.routes.get(route_id=route["id"]).json() == {"route": route}

    matched = client.routes_match.get(filters={"address": "sales@example.com"})
    assert matched.json()["route"]["id"] == route["id"]

    updated = client.routes.put(route_id=route["id"], data={"priority": 4, "action": ["store()"]}).json()
    assert (updated["message"], updated["priority"], updated["actions"]) == ("Route has been updated", 4, ["store()"])

    deleted = client.routes.delete(route_id=route["id"]).json()
    assert deleted == {"id": route["id"], "message": "Route has been deleted"}
    assert client.routes.get(route_id=route["id"]).status_code == 404


def test_sdk_wrong_key_gets_forbidden(mailgun_mock: MailgunMock) -> None:
    """The SDK with a wrong key gets Mailgun's 401 'Forbidden'."""
    client = Client(auth=("api", "key-wrong"), api_url=mailgun_mock.url)
    reply = client.routes.get()
    assert (reply.status_code, reply.text) == (401, "Forbidden")


# -- the account resources through the SDK ------------------------------------------------------

D = "example.com"


@pytest.fixture
def client(mailgun_mock: MailgunMock) -> Client:
    """The official SDK pointed at the mock."""
    return Client(auth=("api", mailgun_mock.api_key), api_url=mailgun_mock.url)


def test_sdk_suppressions(client: Client) -> None:
    """client.bounces/unsubscribes/complaints/whitelists add (form and JSON), read, page, delete and clear."""
    assert client.bounces.create(domain=D, data={"address": "a@x.example", "code": 550, "error": "gone"}).status_code == 200
    batch = client.bounces.create(domain=D, data=json.dumps([{"address": f"b{i}@x.example"} for i in range(3)]),
                                  headers={"Content-Type": "application/json"})
    assert batch.json() == {"message": "3 addresses have been added to the bounces table"}
    assert client.bounces.get(domain=D, bounce_address="a@x.example").json()["error"] == "gone"
    page = client.bounces.get(domain=D, filters={"limit": 2}).json()
    following = client.bounces.get(domain=D, filters={"limit": 2, "page": "next",
                                                      "address": page["items"][-1]["address"]}).json()
    assert [i["address"] for i in page["items"] + following["items"]] == [
        "a@x.example", "b0@x.example", "b1@x.example", "b2@x.example"]
    assert client.bounces.delete(domain=D, bounce_address="a@x.example").status_code == 200
    assert client.unsubscribes.create(domain=D, data={"address": "u@x.example", "tag": "news"}).status_code == 200
    assert client.unsubscribes.get(domain=D, unsubscribe_address="u@x.example").json()["tags"] == ["news"]
    assert client.complaints.create(domain=D, data={"address": "c@x.example"}).status_code == 200
    assert client.whitelists.create(domain=D, data={"domain": "partner.example"}).json()["type"] == "domain"
    assert client.bounces.delete(domain=D).json() == {"message": "Bounced addresses for this domain have been removed"}


def test_sdk_domains_tracking_and_credentials(client: Client) -> None:
    """client.domainlist, domains (v3 forms), domains_tracking* and domains_credentials work unchanged."""
    created = client.domains.create(data={"name": "new.example", "smtp_password": "secret1"})
    assert created.json()["domain"]["state"] == "unverified"
    assert "new.example" in [d["name"] for d in client.domainlist.get().json()["items"]]
    assert client.domains.put(domain="new.example", verify=True).json()["domain"]["state"] == "active"
    assert client.domains_tracking.get(domain="new.example").json()["tracking"]["click"] == {"active": True}
    assert client.domains_tracking_click.put(domain="new.example", data={"active": "no"}).json()["click"] == {
        "active": False}
    client.domains_credentials.create(domain="new.example", data={"login": "alice", "password": "secret1"})
    assert client.domains_credentials.get(domain="new.example").json()["items"][0]["login"] == "alice@new.example"
    assert client.domains_credentials.put(domain="new.example", login="alice",
                                          data={"password": "secret2"}).status_code == 200
    assert client.domains_credentials.delete(domain="new.example", login="alice").status_code == 200
    assert client.domains.delete(domain="new.example").status_code == 200
    assert client.domains.get(domain_name="new.example").status_code == 404


def test_sdk_template_send_reaches_a_real_receiver_rendered(mailgun_mock: MailgunMock, client: Client,
                                                             receiver: object) -> None:
    """A template stored and versioned through the SDK renders into a send that a real receiver gets."""
    receiver.expect_request("/inbound").respond_with_data("ok")  # type: ignore[attr-defined]
    client.templates.create(domain=D, data={"name": "welcome", "template": "<p>Hi {{user.name}}</p>", "tag": "v1",
                                            "headers": json.dumps({"Subject": "Welcome {{user.name}}"})})
    client.templates.create(domain=D, template_name="welcome", versions=True,
                            data={"template": "<h1>Hello {{user.name}}</h1>", "tag": "v2", "active": "yes"})
    versions = client.templates.get(domain=D, template_name="welcome", versions=True).json()["template"]["versions"]
    assert [(v["tag"], v["active"]) for v in versions] == [("v1", False), ("v2", True)]
    copied = client.templates.put(domain=D, template_name="welcome", versions=True, tag="v2", copy=True, new_tag="v3")
    assert copied.json()["version"]["tag"] == "v3"
    mailgun_mock.create_route("catch_all()", f'forward("{receiver.url_for("/inbound")}")')  # type: ignore[attr-defined]
    sent = client.messages.create(domain=D, data={"from": f"app@{D}", "to": f"ann@{D}", "template": "welcome",
                                                  "t:variables": json.dumps({"user": {"name": "Ann"}})})
    assert sent.status_code == 200, sent.text
    mailgun_mock.wait_for_deliveries(1, outcome="delivered")
    form = receiver.log[0][0].form  # type: ignore[attr-defined]
    assert form["body-html"].strip() == "<h1>Hello Ann</h1>" and form["X-Mailgun-Template-Name"] == "welcome"


def test_sdk_list_send_reaches_each_member(mailgun_mock: MailgunMock, client: Client, receiver: object) -> None:
    """A list built through the SDK expands a send to one delivery per subscribed member, with their vars."""
    receiver.expect_request("/inbound").respond_with_data("ok")  # type: ignore[attr-defined]
    assert client.lists.create(data={"address": f"team@{D}", "name": "Team"}).status_code == 200
    client.lists_members.create(address=f"team@{D}", data={"address": f"ann@{D}", "vars": json.dumps({"n": "A"})})
    client.lists_members.create(address=f"team@{D}", multiple=True, data={
        "members": json.dumps([{"address": f"bob@{D}", "vars": {"n": "B"}}, {"address": f"cy@{D}", "subscribed": False}]),
        "upsert": "yes"})
    assert client.lists_members.get(address=f"team@{D}").json()["total_count"] == 3
    mailgun_mock.create_route("catch_all()", f'forward("{receiver.url_for("/inbound")}")')  # type: ignore[attr-defined]
    client.messages.create(domain=D, data={"from": f"app@{D}", "to": f"team@{D}", "subject": "Hi %recipient.n%",
                                           "text": "x"})
    mailgun_mock.wait_for_deliveries(2, outcome="delivered")
    got = sorted((r.form["recipient"], r.form["subject"]) for r, _ in receiver.log)  # type: ignore[attr-defined]
    assert got == [(f"ann@{D}", "Hi A"), (f"bob@{D}", "Hi B")]


def test_sdk_webhooks_and_keys(mailgun_mock: MailgunMock, client: Client) -> None:
    """Domain and account webhooks, and API keys (a created key authenticates the SDK), through the SDK."""
    client.domains_webhooks.create(domain=D, data={"id": "clicked", "url": ["https://a.example/h"]})
    assert client.domains_webhooks.get(domain=D).json() == {"webhooks": {"clicked": {"urls": ["https://a.example/h"]}}}
    assert client.domains_webhooks.put(domain=D, webhook_name="clicked",
                                       data=[("url", "https://b.example/h")]).status_code == 200
    hook = client.account_webhooks.create(data={"url": "https://c.example/h", "event_types": ["delivered"]}).json()
    assert client.account_webhooks.get().json()["webhooks"][0]["webhook_id"] == hook["webhook_id"]
    key = client.keys.create(data={"role": "admin", "description": "ci"}).json()["key"]
    other = Client(auth=("api", key["secret"]), api_url=mailgun_mock.url)
    assert other.routes.get().status_code == 200
    assert client.keys.delete(key_id=key["id"]).json() == {"message": "key deleted"}
    assert other.routes.get().status_code == 401


@pytest.mark.xfail(reason="SDK bug (mailgun 1.10): domains_webhooks picks /v4 from data['event_types'], but "
                          "Endpoint.api_call never hands data to the URL handler, so the v4 call goes to /v3")
def test_sdk_v4_webhooks(client: Client) -> None:
    """client.domains_webhooks with event_types should reach /v4/domains/<d>/webhooks."""
    reply = client.domains_webhooks.create(domain=D, data={"url": "https://b.example/h", "event_types": ["opened"]})
    assert reply.status_code == 200, reply.text


@pytest.mark.xfail(reason="SDK bug (mailgun 1.10): attribute names split on '_', so /v5/accounts/http_signing_key "
                          "and /v5/sandbox/auth_recipients are unreachable (they become http/signing/key…)")
def test_sdk_signing_key(client: Client) -> None:
    """client.accounts_http_signing_key should read the signing key."""
    assert client.accounts_http_signing_key.get().status_code == 200
