"""Sending fidelity: rate limits, Message-Id, the scheduling horizon, envelopes, reserved test recipients."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from tests.conftest import Api

SEND = "/v3/example.com/messages"
BASIC = {"from": "shop@example.com", "subject": "Hi", "text": "Hello"}
TEST = "test-recipients.mailgun-mock.invalid"


def kinds(api: Api, recipient: str) -> list[str]:
    page = api.get("/v3/example.com/events", params={"recipient": recipient, "ascending": "yes"}).json()
    return [e["event"] for e in page["items"]]


def test_rate_limit_rule_answers_429_past_the_count(api: Api) -> None:
    """A rate-limit rule lets 'limit' sends through per window, then answers Mailgun's 429 with Retry-After."""
    api.post("/mock/rules", json={"match": {"domain": "^busy\\."}, "outcome": "rate-limit", "limit": 2, "window": 60})
    for _ in range(2):
        assert api.post(SEND, data={**BASIC, "to": "a@busy.example"}).status == 200
    refused = api.post(SEND, data={**BASIC, "to": "b@busy.example"})
    assert refused.status == 429
    assert refused.json()["message"].startswith(
        "Domain example.com is not allowed to send: request limit exceeded, try again after ")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and int(refused.headers["X-RateLimit-Reset"]) > 0
    assert api.post(SEND, data={**BASIC, "to": "c@calm.example"}).status == 200  # another destination
    api.backend.advance_clock(61)
    assert api.post(SEND, data={**BASIC, "to": "a@busy.example"}).status == 200


def test_h_message_id_is_the_message_id(api: Api) -> None:
    """h:Message-Id is honoured: it is the answered id and the stored message's Message-Id."""
    sent = api.post(SEND, data={**BASIC, "to": "a@x.example", "h:Message-Id": "<order-42@shop.example>"}).json()
    assert sent["id"] == "<order-42@shop.example>"
    assert dict(api.get("/mock/outbox").json()["items"][0]["headers"])["Message-Id"] == "<order-42@shop.example>"
    assert api.post(SEND, data={**BASIC, "to": "a@x.example", "h:Message-Id": "no id"}).status == 400


def test_deliverytime_beyond_the_horizon_is_refused(api: Api) -> None:
    """o:deliverytime more than 7 days ahead is a 400; within the horizon it is accepted."""
    now = api.get("/mock/clock").json()["now"]
    assert api.post(SEND, data={**BASIC, "to": "a@x.example", "o:deliverytime": formatdate(now + 8 * 86400)}).status == 400
    assert api.post(SEND, data={**BASIC, "to": "a@x.example", "o:deliverytime": formatdate(now + 6 * 86400)}).status == 200


def test_delete_envelopes_drops_scheduled_mail(api: Api) -> None:
    """DELETE /v3/<d>/envelopes drops scheduled mail: it is never delivered; later sends are."""
    now = api.get("/mock/clock").json()["now"]
    api.post(SEND, data={**BASIC, "to": "later@x.example", "o:deliverytime": formatdate(now + 3600)})
    assert api.delete("/v3/example.com/envelopes").json() == {"message": "done"}
    api.post(SEND, data={**BASIC, "to": "after@x.example"})
    api.backend.advance_clock(7200)
    assert kinds(api, "later@x.example") == ["accepted"]
    assert kinds(api, "after@x.example") == ["accepted", "delivered"]


@pytest.mark.parametrize(("local", "expected"), [
    ("delivered", ["accepted", "delivered"]),
    ("bounce+signup", ["accepted", "failed"]),
    ("complain", ["accepted", "delivered", "complained"]),
    ("unsubscribe", ["accepted", "delivered", "unsubscribed"]),
    ("defer", ["accepted", "failed", "delivered"]),
])
def test_reserved_test_recipients_act_without_a_rule(api: Api, local: str, expected: list[str]) -> None:
    """Reserved test recipients produce their outcome (and its suppression) with no rule."""
    address = f"{local}@{TEST}"
    assert api.post(SEND, data={**BASIC, "to": address}).status == 200
    api.backend.advance_clock(3600)
    assert kinds(api, address) == expected
    if local.startswith("bounce"):
        assert api.get(f"/v3/example.com/bounces/{address}").status == 200


def test_reserved_reject_recipient_is_refused_at_the_api(api: Api) -> None:
    """reject@ (with a +label too) is refused at the API, and nothing is kept."""
    reply = api.post(SEND, data={**BASIC, "to": f"reject+x@{TEST}"})
    assert reply.status == 400 and "reserved test recipient" in reply.json()["message"]
    assert api.get("/mock/outbox").json()["items"] == []
