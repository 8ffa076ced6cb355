"""Address validation (/v4/address/validate): syntax, roles, disposable domains, typo suggestions,
and verdicts forced by mock rules."""

from __future__ import annotations

import pytest

from mailgun_mock.backend.validation import suggest_domain
from tests.conftest import Api


@pytest.mark.parametrize(("address", "result", "risk", "reason", "role", "disposable"), [
    ("alice@example.com", "deliverable", "low", [], False, False),
    ("info@example.com", "deliverable", "medium", ["mailbox_is_role_address"], True, False),
    ("someone@mailinator.com", "do_not_send", "high", ["mailbox_is_disposable_address"], False, True),
    ("not-an-address", "undeliverable", "high", ["failed_syntax_check"], False, False),
    ("two@@example.com", "undeliverable", "high", ["failed_syntax_check"], False, False),
    ("dot.@example.com", "undeliverable", "high", ["failed_syntax_check"], False, False),
    ("bounce@test-recipients.mailgun-mock.invalid", "undeliverable", "high", ["mailbox_does_not_exist"], False, False),
])
def test_validate_verdicts(api: Api, address: str, result: str, risk: str, reason: list[str], role: bool,
                           disposable: bool) -> None:
    """Each kind of address gets its documented verdict, in Mailgun's shape."""
    answer = api.get("/v4/address/validate", params={"address": address}).json()
    assert answer["address"] == address
    assert (answer["result"], answer["risk"], answer["reason"]) == (result, risk, reason)
    assert (answer["is_role_address"], answer["is_disposable_address"]) == (role, disposable)
    assert "did_you_mean" not in answer


def test_validate_suggests_a_common_provider_for_a_typo(api: Api) -> None:
    """gmial.com is one swap from gmail.com: undeliverable, with did_you_mean; POST answers as GET does."""
    answer = api.post("/v4/address/validate", data={"address": "bob@gmial.com"}).json()
    assert (answer["result"], answer["did_you_mean"]) == ("undeliverable", "bob@gmail.com")
    assert api.get("/v4/address/validate", params={"address": "bob@gmail.com"}).json()["result"] == "deliverable"
    assert suggest_domain("hotmial.com") == "hotmail.com" and suggest_domain("yahoo.con") == "yahoo.com"
    assert suggest_domain("example.com") is None and suggest_domain("gmail.com") is None


def test_validate_sub_address_has_a_root_address(api: Api) -> None:
    """An address with a +label answers its root address."""
    answer = api.get("/v4/address/validate", params={"address": "Ann+news@Example.com"}).json()
    assert answer["root_address"] == "Ann@example.com"


def test_validate_rule_forces_a_verdict(api: Api) -> None:
    """A verdict rule on /mock/rules forces the verdict for the addresses it matches, and not for others;
    sends to those addresses are not affected by it."""
    created = api.post("/mock/rules", json={"match": {"recipient": "^ghost@"}, "outcome": "undeliverable",
                                            "description": "mailbox_does_not_exist"}).json()
    assert created["outcome"] == ["undeliverable"]
    forced = api.get("/v4/address/validate", params={"address": "ghost@example.com"}).json()
    assert (forced["result"], forced["risk"], forced["reason"]) == ("undeliverable", "high", ["mailbox_does_not_exist"])
    api.post("/mock/rules", json={"match": {"domain": "^corp\\.example$"}, "outcome": "catch_all"})
    assert api.get("/v4/address/validate", params={"address": "x@corp.example"}).json()["risk"] == "medium"
    assert api.get("/v4/address/validate", params={"address": "other@example.com"}).json()["result"] == "deliverable"
    sent = api.post("/v3/example.com/messages", data={"from": "a@example.com", "to": "ghost@example.com",
                                                      "subject": "s", "text": "t"})
    assert sent.status == 200
    api.backend.delivery.run_due()
    events = api.get("/v3/example.com/events", params={"event": "delivered"}).json()["items"]
    assert [e["recipient"] for e in events] == ["ghost@example.com"]


def test_validate_rule_refuses_message_matchers(api: Api) -> None:
    """A verdict rule matches addresses only: a tag or header matcher is a 400."""
    refused = api.post("/mock/rules", json={"match": {"tag": "t"}, "outcome": "unknown"})
    assert refused.status == 400 and "recipient" in refused.json()["message"]


def test_validate_needs_an_address(api: Api) -> None:
    """No address is a 400 with a message; an over-long one too."""
    assert api.get("/v4/address/validate").status == 400
    assert api.get("/v4/address/validate", params={"address": "a" * 600 + "@example.com"}).status == 400
