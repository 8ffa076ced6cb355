"""A subaccount's webhooks carry Mailgun's ``parent-signature`` beside their own ``signature``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from mailgun_mock import MailgunMock

BEHALF = "X-Mailgun-On-Behalf-Of"
TEST = "test-recipients.mailgun-mock.invalid"


def _sign(key: str, timestamp: str, token: str) -> str:
    return hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


def _wait(receiver, paths: set[str]) -> None:
    deadline = time.monotonic() + 10
    while not paths <= {request.path for request, _ in receiver.log} and time.monotonic() < deadline:
        time.sleep(0.02)
    assert paths <= {request.path for request, _ in receiver.log}


def test_subaccount_webhooks_carry_both_signatures(mailgun_mock: MailgunMock, receiver) -> None:
    """An event webhook (JSON) and a route forward (form) of a subaccount are signed with the subaccount's
    own key in ``signature`` and, over the same timestamp and token, with the parent's in ``parent-signature``;
    the parent's own webhooks carry no parent-signature."""
    receiver.expect_request("/sub-events").respond_with_data("ok")
    receiver.expect_request("/sub-forward").respond_with_data("ok")
    receiver.expect_request("/parent-events").respond_with_data("ok")
    session, url = mailgun_mock.session, mailgun_mock.url
    sub = session.post(f"{url}/v5/accounts/subaccounts", params={"name": "shop"}).json()["subaccount"]["id"]
    as_sub = {BEHALF: sub}
    sub_key = session.get(f"{url}/v5/accounts/http_signing_key", headers=as_sub).json()["http_signing_key"]
    assert sub_key != mailgun_mock.signing_key
    session.post(f"{url}/v3/domains/example.com/webhooks", headers=as_sub,
                 data={"id": "delivered", "url": receiver.url_for("/sub-events")})
    session.post(f"{url}/v3/routes", headers=as_sub,
                 data={"expression": 'match_recipient("app@example.com")',
                       "action": f'forward("{receiver.url_for("/sub-forward")}")'})
    session.post(f"{url}/v3/domains/example.com/webhooks",
                 data={"id": "delivered", "url": receiver.url_for("/parent-events")})
    mail = {"from": "a@example.com", "subject": "s", "text": "t"}
    assert session.post(f"{url}/v3/example.com/messages", headers=as_sub,
                        data={**mail, "to": f"delivered@{TEST}"}).status_code == 200
    assert session.post(f"{url}/mock/inbound", headers=as_sub,
                        data={**mail, "from": "c@x.example", "to": "app@example.com"}).status_code == 200
    assert session.post(f"{url}/v3/example.com/messages", data={**mail, "to": f"delivered@{TEST}"}).status_code == 200
    _wait(receiver, {"/sub-events", "/sub-forward", "/parent-events"})
    bodies = {request.path: request for request, _ in receiver.log}
    event = json.loads(bodies["/sub-events"].get_data())["signature"]
    assert event["signature"] == _sign(sub_key, event["timestamp"], event["token"])
    assert event["parent-signature"] == _sign(mailgun_mock.signing_key, event["timestamp"], event["token"])
    form = bodies["/sub-forward"].form
    assert form["signature"] == _sign(sub_key, form["timestamp"], form["token"])
    assert form["parent-signature"] == _sign(mailgun_mock.signing_key, form["timestamp"], form["token"])
    parent = json.loads(bodies["/parent-events"].get_data())["signature"]
    assert parent["signature"] == _sign(mailgun_mock.signing_key, parent["timestamp"], parent["token"])
    assert "parent-signature" not in parent
