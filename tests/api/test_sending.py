"""Sending over HTTP (test client and real server): /messages, messages.mime, resend, rules, suppressions."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Api

SEND = "/v3/example.com/messages"
BASIC = {"from": "Shop <shop@example.com>", "to": "bob@example.net", "subject": "Hello", "text": "Hi Bob"}


def settle(api: Api) -> None:
    assert api.backend.delivery.run_due(10)


def events(api: Api, **params: str) -> list[dict]:
    return api.get("/v3/example.com/events", params={"ascending": "yes", **params}).json()["items"]


def test_send_answers_queued_with_a_mailgun_id(api: Api) -> None:
    """A send answers {"id": "<YYYYMMDDhhmmss.<16 hex>@domain>", "message": "Queued. Thank you."}."""
    reply = api.post(SEND, data=BASIC)
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["message"] == "Queued. Thank you."
    assert re.fullmatch(r"<\d{14}\.[0-9a-f]{16}@example\.com>", body["id"])


def test_send_logs_accepted_then_delivered(api: Api) -> None:
    """Each recipient gets accepted (method http, tags, variables, storage) and then delivered."""
    api.post(SEND, data={**BASIC, "cc": "Ann <ann@example.org>", "o:tag": ["welcome", "q4"], "v:order": "42"})
    settle(api)
    seen = [(e["event"], e["recipient"]) for e in events(api)]
    assert sorted(seen) == sorted([("accepted", "bob@example.net"), ("accepted", "ann@example.org"),
                                   ("delivered", "bob@example.net"), ("delivered", "ann@example.org")])
    accepted = events(api, event="accepted")[0]
    assert accepted["method"] == "http" and accepted["tags"] == ["welcome", "q4"]
    assert accepted["user-variables"] == {"order": "42"}
    assert accepted["flags"]["is-test-mode"] is False
    stored = api.get("/" + accepted["storage"]["url"].split("/", 3)[3]).json()
    assert stored["subject"] == "Hello" and stored["X-Mailgun-Tag"] == "welcome"
    delivered = events(api, event="delivered")[0]
    assert delivered["delivery-status"]["code"] == 250 and delivered["envelope"]["transport"] == "smtp"


def test_send_bcc_is_delivered_but_not_shown(api: Api) -> None:
    """Bcc recipients get the message and events, and no header shows them."""
    api.post(SEND, data={**BASIC, "bcc": "hidden@example.org"})
    settle(api)
    assert {e["recipient"] for e in events(api, event="delivered")} == {"bob@example.net", "hidden@example.org"}
    stored = api.get("/" + events(api, event="accepted")[0]["storage"]["url"].split("/", 3)[3],
                     headers={"Accept": "message/rfc2822"}).json()
    assert "hidden@example.org" not in stored["body-mime"]


def test_send_test_mode_logs_delivered_with_code_650(api: Api) -> None:
    """o:testmode=yes: accepted, then delivered with code 650 as Mailgun logs it, both flagged, nothing else."""
    api.post(SEND, data={**BASIC, "o:testmode": "yes"})
    api.post("/mock/clock", json={"advance": 3600})
    logged = events(api)
    assert [(e["event"], e["flags"]["is-test-mode"]) for e in logged] == [("accepted", True), ("delivered", True)]
    assert logged[1]["delivery-status"]["code"] == 650


def test_send_deliverytime_waits_for_the_clock(api: Api) -> None:
    """o:deliverytime delays delivery until the mock's clock reaches it."""
    now = api.get("/mock/clock").json()["now"]
    from email.utils import formatdate

    api.post(SEND, data={**BASIC, "o:deliverytime": formatdate(now + 3600)})
    settle(api)
    assert [e["event"] for e in events(api)] == ["accepted"]
    # The clock is real time plus the offset, so leave margins for a slow, loaded machine.
    api.post("/mock/clock", json={"advance": 3000})
    assert [e["event"] for e in events(api)] == ["accepted"]
    api.post("/mock/clock", json={"advance": 700})
    assert [e["event"] for e in events(api)] == ["accepted", "delivered"]


def test_send_recipient_variables_make_one_message_each(api: Api) -> None:
    """recipient-variables: each To recipient gets their own message with their values substituted."""
    api.post(SEND, data={**BASIC, "to": ["bob@example.net", "ann@example.org"], "subject": "Hi %recipient.name%",
                         "recipient-variables": '{"bob@example.net": {"name": "Bob"}, "ann@example.org": {"name": "Ann"}}'})
    outbox = api.get("/mock/outbox").json()["items"]
    assert sorted((m["to"], m["subject"]) for m in outbox) == [("ann@example.org", "Hi Ann"), ("bob@example.net", "Hi Bob")]


@pytest.mark.parametrize(("data", "message"), [
    ({k: v for k, v in BASIC.items() if k != "from"}, "from parameter is missing"),
    ({k: v for k, v in BASIC.items() if k != "to"}, "to parameter is missing"),
    ({**BASIC, "text": ""}, "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"),
    ({**BASIC, "to": "not an address"}, "to parameter is not a valid address. please check documentation"),
    ({**BASIC, "recipient-variables": "{nope"}, "'recipient-variables' parameter is not a valid JSON"),
    ({**BASIC, "o:deliverytime": "tomorrow"}, "tomorrow is not an RFC-2822 compliant date"),
    ({**BASIC, "to": [f"u{i}@example.net" for i in range(1001)]}, "Too many recipients, max is 1000"),
    ({**BASIC, "v:big": "x" * 17000}, "Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total"),
])
def test_send_refuses_bad_input_with_mailgun_messages(api: Api, data: dict, message: str) -> None:
    """Mailgun's documented validation errors come back as 400 JSON, and nothing is sent or logged."""
    reply = api.post(SEND, data=data)
    assert (reply.status, reply.json()) == (400, {"message": message})
    assert api.get("/mock/outbox").json()["total_count"] == 0 and events(api) == []


def test_send_mime_needs_multipart(api: Api) -> None:
    """messages.mime refuses a urlencoded body with Mailgun's content-type message."""
    reply = api.post("/v3/example.com/messages.mime", data={"to": "bob@example.net", "message": "x"})
    assert reply.status == 400
    assert reply.json()["message"].startswith("Invalid request content type. Expecting 'multipart/form-data'")


def test_send_mime_sends_the_message_as_is(api: Api) -> None:
    """messages.mime delivers the uploaded MIME unchanged to the given recipients, keeping its Message-Id."""
    raw = b"From: shop@example.com\r\nTo: list@example.net\r\nSubject: Raw\r\nMessage-Id: <raw1@example.com>\r\n\r\nbody\r\n"
    reply = api.post("/v3/example.com/messages.mime", data={"to": "bob@example.net"},
                     files={"message": ("m.eml", raw, "message/rfc822")})
    assert reply.json() == {"id": "<raw1@example.com>", "message": "Queued. Thank you."}
    (sent,) = api.get("/mock/outbox").json()["items"]
    assert (sent["recipients"], sent["subject"], sent["to"]) == (["bob@example.net"], "Raw", "list@example.net")


@pytest.mark.parametrize(("data", "files", "message"), [
    ({"to": "bob@example.net"}, None, "message parameter is missing"),
    ({"to": "bob@example.net", "message": "not a file"}, {"x": ("x", b"x", "text/plain")}, "'message' parameter is not a file"),
    ({}, {"message": ("m.eml", b"Subject: x\r\n\r\ny", "message/rfc822")}, "to parameter is missing"),
])
def test_send_mime_refuses_bad_input(api: Api, data: dict, files: dict | None, message: str) -> None:
    """messages.mime's documented errors come back as 400 JSON."""
    reply = api.post("/v3/example.com/messages.mime", data=data, files=files or {"x": ("x", b"x", "text/plain")})
    assert (reply.status, reply.json()["message"]) == (400, message)


def test_resend_sends_the_stored_message_again(api: Api) -> None:
    """POST on a storage URL with 'to' sends the stored message to the new recipient."""
    api.post(SEND, data=BASIC)
    url = events(api, event="accepted")[0]["storage"]["url"]
    reply = api.post("/" + url.split("/", 3)[3], data={"to": "carol@example.org"})
    assert reply.status == 200 and reply.json()["message"] == "Queued. Thank you."
    settle(api)
    assert "carol@example.org" in {e["recipient"] for e in events(api, event="delivered")}
    assert [m["subject"] for m in api.get("/mock/outbox").json()["items"]] == ["Hello", "Hello"]


def test_rule_bounce_fails_and_suppresses(api: Api) -> None:
    """A bounce rule gives a permanent failure and a bounce; the next send to it fails as suppressed (605)."""
    rule = api.post("/mock/rules", json={"match": {"recipient": "^bob@"}, "outcome": "bounce"}).json()
    assert rule["outcome"] == ["bounce"] and api.get("/mock/rules").json()["total_count"] == 1
    api.post(SEND, data=BASIC)
    settle(api)
    api.post(SEND, data=BASIC)
    settle(api)
    failed = events(api, event="failed")
    assert [(e["severity"], e["reason"], e["delivery-status"]["code"]) for e in failed] == [
        ("permanent", "bounce", 550), ("permanent", "suppress-bounce", 605)]
    bounces = api.get("/v3/example.com/bounces").json()["items"]
    assert [(b["address"], b["code"]) for b in bounces] == [("bob@example.net", "550")]


def test_rule_reject_refuses_the_send(api: Api) -> None:
    """A reject rule answers its status and message at the API and keeps nothing."""
    api.post("/mock/rules", json={"match": {"domain": "example\\.net$"}, "outcome": "reject", "status": 403,
                                  "message": "Domain example.com is not allowed to send: Free accounts are for test purposes only"})
    reply = api.post(SEND, data=BASIC)
    assert reply.status == 403
    assert reply.json()["message"].startswith("Domain example.com is not allowed to send")
    assert api.get("/mock/outbox").json()["total_count"] == 0 and events(api) == []


def test_rule_temporary_fail_plays_on_the_clock(api: Api) -> None:
    """temporary-fail with 2 retries: failed at t0 and t0+600, delivered at t0+1200, each only when due."""
    api.post("/mock/rules", json={"match": {"recipient": "^bob@"}, "outcome": "temporary-fail", "retries": 2})
    api.post(SEND, data=BASIC)
    settle(api)

    def steps() -> list[tuple[str, str | None]]:
        return [(e["event"], e.get("severity")) for e in events(api) if e["event"] != "accepted"]

    assert steps() == [("failed", "temporary")]
    api.post("/mock/clock", json={"advance": 599})
    assert steps() == [("failed", "temporary")]
    api.post("/mock/clock", json={"advance": 1})
    assert steps() == [("failed", "temporary")] * 2
    api.post("/mock/clock", json={"advance": 600})
    assert steps() == [("failed", "temporary")] * 2 + [("delivered", None)]


def test_rule_engagement_follows_delivery(api: Api) -> None:
    """open and click rules add opened and clicked events after delivery, in order."""
    api.post("/mock/rules", json={"match": {"recipient": "^bob@"}, "outcome": ["open", "click"]})
    api.post(SEND, data={**BASIC, "html": '<a href="https://shop.example/offer">Offer</a>'})
    api.post("/mock/clock", json={"advance": 600})
    seen = [e["event"] for e in events(api)]
    assert seen == ["accepted", "delivered", "opened", "clicked"]
    assert events(api, event="clicked")[0]["url"] == "https://shop.example/offer"


@pytest.mark.parametrize(("rule", "fragment"), [
    ({"outcome": "explode"}, "outcome"),
    ({"match": {"recipient": "("}, "outcome": "bounce"}, "recipient"),
    ({"match": {"colour": "red"}, "outcome": "bounce"}, "colour"),
])
def test_rules_api_refuses_bad_rules(api: Api, rule: dict, fragment: str) -> None:
    """An invalid rule is a 400 naming the problem, and is not kept."""
    reply = api.post("/mock/rules", json=rule)
    assert reply.status == 400 and fragment in reply.json()["message"]
    assert api.get("/mock/rules").json()["total_count"] == 0


def test_rules_api_deletes(api: Api) -> None:
    """Rules are deleted one by one or all at once; an unknown id is a 404."""
    first = api.post("/mock/rules", json={"outcome": "deliver"}).json()
    api.post("/mock/rules", json={"outcome": "bounce"})
    assert api.delete(f"/mock/rules/{first['id']}").json() == {"message": "Rule has been deleted"}
    assert api.delete(f"/mock/rules/{first['id']}").status == 404
    assert api.delete("/mock/rules").status == 200 and api.get("/mock/rules").json()["total_count"] == 0


def test_rules_api_needs_json(api: Api) -> None:
    """A rule sent as a form is a 400 asking for JSON."""
    reply = api.post("/mock/rules", data={"outcome": "bounce"})
    assert reply.status == 400 and "JSON" in reply.json()["message"]


def test_suppression_lists_of_an_unknown_kind_are_404(api: Api) -> None:
    """Only bounces, unsubscribes and complaints are lists."""
    assert api.get("/v3/example.com/unsubscribes").json()["items"] == []
    assert api.get("/v3/example.com/whatever").status == 404


def test_engagement_events_are_stamped_when_due_even_after_a_jump(api: Api) -> None:
    """After one big clock jump, opened and clicked still read delivery + 60 s and + 120 s."""
    api.post("/mock/rules", json={"match": {"recipient": "^bob@"}, "outcome": ["open", "click"]})
    api.post(SEND, data={**BASIC, "html": '<a href="https://shop.example/">x</a>'})
    api.post("/mock/clock", json={"advance": 5000})
    stamps = {e["event"]: e["timestamp"] for e in events(api)}
    assert round(stamps["opened"] - stamps["delivered"]) == 60
    assert round(stamps["clicked"] - stamps["delivered"]) == 120


@pytest.mark.parametrize(("options", "expected"), [
    ({"o:tracking": "no"}, ["accepted", "delivered"]),
    ({"o:tracking-opens": "no"}, ["accepted", "delivered", "clicked"]),
    ({"o:tracking-clicks": "no"}, ["accepted", "delivered", "opened"]),
    ({"o:tracking-clicks": "htmlonly"}, ["accepted", "delivered", "opened"]),  # a text-only message
])
def test_tracking_options_gate_opens_and_clicks(api: Api, options: dict, expected: list[str]) -> None:
    """With tracking turned off no opened/clicked event can be recorded, whatever the rules say."""
    api.post("/mock/rules", json={"match": {"recipient": "^bob@"}, "outcome": ["open", "click"]})
    api.post(SEND, data={**BASIC, **options})
    api.post("/mock/clock", json={"advance": 600})
    assert [e["event"] for e in events(api)] == expected


def test_send_mime_keeps_v_variables_and_tags(api: Api) -> None:
    """messages.mime's v: variables and o:tag reach the events."""
    raw = b"From: shop@example.com\r\nTo: bob@example.net\r\nSubject: Raw\r\n\r\nbody\r\n"
    api.post("/v3/example.com/messages.mime", data={"to": "bob@example.net", "v:order": "7", "o:tag": "raw"},
             files={"message": ("m.eml", raw, "message/rfc822")})
    (accepted,) = events(api, event="accepted")
    assert (accepted["user-variables"], accepted["tags"]) == ({"order": "7"}, ["raw"])


def test_send_event_shapes_follow_mailgun_samples(api: Api) -> None:
    """accepted lists the message's recipients; delivered has message OK and an empty description."""
    api.post(SEND, data={**BASIC, "cc": "ann@example.org"})
    settle(api)
    accepted = events(api, event="accepted")[0]
    assert accepted["message"]["recipients"] == ["bob@example.net", "ann@example.org"]
    status = events(api, event="delivered")[0]["delivery-status"]
    assert (status["message"], status["description"], status["code"]) == ("OK", "", 250)
