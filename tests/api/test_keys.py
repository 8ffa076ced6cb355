"""API keys, the webhook signing key, account settings and sandbox recipients."""

from __future__ import annotations

import hashlib
import hmac
import json

from mailgun_mock import MailgunMock
from tests.conftest import Api


def test_created_key_authenticates_until_deleted(api: Api) -> None:
    """A key made with /v1/keys authenticates; once deleted it gets Mailgun's 401 Forbidden."""
    created = api.post("/v1/keys", data={"role": "admin", "description": "ci"}).json()
    assert created["message"] == "great success"
    key = created["key"]
    assert (key["role"], key["kind"], key["is_disabled"]) == ("admin", "user", False)
    assert api.get("/v3/routes", auth=("api", key["secret"])).status == 200
    listed = api.get("/v1/keys").json()
    assert listed["total_count"] == 1 and "secret" not in listed["items"][0]
    assert api.delete(f"/v1/keys/{key['id']}").json() == {"message": "key deleted"}
    refused = api.get("/v3/routes", auth=("api", key["secret"]))
    assert (refused.status, refused.text) == (401, "Forbidden")
    assert api.delete(f"/v1/keys/{key['id']}").json() == {"message": "no key matching id"}


def test_sending_key_only_sends_for_its_domain(api: Api) -> None:
    """A domain sending key may send from its domain and nothing else; an expired key stops."""
    key = api.post("/v1/keys", data={"role": "sending", "kind": "domain", "domain_name": "send.example"}).json()["key"]
    auth = ("api", key["secret"])
    message = {"from": "a@send.example", "to": "b@x.example", "subject": "s", "text": "t"}
    assert api.post("/v3/send.example/messages", data=message, auth=auth).status == 200
    assert api.post("/v3/other.example/messages", data=message, auth=auth).status == 401
    assert api.get("/v3/send.example/events", auth=auth).status == 401
    assert api.get("/v1/keys", params={"kind": "domain"}).json()["items"][0]["domain_name"] == "send.example"
    short = api.post("/v1/keys", data={"role": "admin", "expiration": "60"}).json()["key"]
    api.backend.advance_clock(61)
    assert api.get("/v3/routes", auth=("api", short["secret"])).status == 401
    assert api.post("/v1/keys", data={"role": "owner"}).status == 400
    assert api.post("/v1/keys/public").json()["key"].startswith("pubkey-")


def test_signing_key_rotation_signs_webhooks_from_then_on(mailgun_mock: MailgunMock, receiver) -> None:
    """After POST /v5/accounts/http_signing_key, webhooks are signed with the new key it answers."""
    receiver.expect_request("/hook").respond_with_data("ok")
    session, url = mailgun_mock.session, mailgun_mock.url
    assert session.get(f"{url}/v5/accounts/http_signing_key").json() == {"http_signing_key": mailgun_mock.signing_key}
    rotated = session.post(f"{url}/v5/accounts/http_signing_key").json()
    new_key = rotated["http_signing_key"]
    assert rotated["message"] == "regenerated HTTP signing key for account" and new_key != mailgun_mock.signing_key
    assert session.get(f"{url}/v5/accounts/http_signing_key").json() == {"http_signing_key": new_key}
    mailgun_mock.create_route("catch_all()", f'forward("{receiver.url_for("/hook")}")')
    mailgun_mock.inject(from_="a@example.net", to=["b@example.com"], text="x")
    mailgun_mock.wait_for_deliveries(1)
    form = receiver.log[0][0].form
    expected = hmac.new(new_key.encode(), (form["timestamp"] + form["token"]).encode(), hashlib.sha256).hexdigest()
    assert form["signature"] == expected
    mailgun_mock.reset()
    assert session.get(f"{url}/v5/accounts/http_signing_key").json() == {"http_signing_key": mailgun_mock.signing_key}


def test_account_settings_and_sandbox_recipients(api: Api) -> None:
    """Account settings need one field; sandbox recipients are added (at most 5), listed and removed."""
    assert api.put("/v5/accounts", params={"name": "ACME"}).json() == {"message": "Account info has been updated"}
    assert api.put("/v5/accounts").status == 400
    assert api.post("/v5/accounts/resend_activation_email").json() == {"success": True}
    assert api.post("/v5/sandbox/auth_recipients", params={"email": "qa@x.example"}).json() == {
        "recipient": {"email": "qa@x.example", "activated": False}}
    for n in range(4):
        api.post("/v5/sandbox/auth_recipients", params={"email": f"qa{n}@x.example"})
    assert api.post("/v5/sandbox/auth_recipients", params={"email": "six@x.example"}).json() == {
        "message": "Only 5 sandbox recipients are allowed"}
    assert len(api.get("/v5/sandbox/auth_recipients").json()["recipients"]) == 5
    assert api.delete("/v5/sandbox/auth_recipients/qa@x.example").json() == {"message": "Sandbox recipient deleted."}
    assert json.loads(api.get("/v5/sandbox/auth_recipients").content)["recipients"][0]["email"] == "qa0@x.example"
