"""Mock rules: parsing and validation, matching, delivery plans, suppression lists, snapshots."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailgun_mock.base.errors import BadRequest
from mailgun_mock.base.records import SuppressionHit
from mailgun_mock.lang.filters import NO_HEADERS
from mailgun_mock.lang.send_rules import DeliveryPlan, Rule, Step, parse_rule, plan_delivery
from mailgun_mock.state.suppressions import Suppressions, rfc2822

SCHEDULE = (600.0, 600.0, 900.0)
OCT_13_2011 = 1318528920.0  # Thu, 13 Oct 2011 18:02:00 UTC


class Headers:
    """A message's headers: name lookup ignores case, every occurrence kept."""

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = pairs

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k.lower() == name.lower()]


def rule(data: dict[str, Any], rule_id: str = "r1") -> Rule:
    return parse_rule(data, rule_id=rule_id)


def plan(rules: Sequence[Rule], recipient: str = "alice@example.org", *, tags: Sequence[str] = (),
         headers: Any = NO_HEADERS, suppression: SuppressionHit | None = None,
         schedule: Sequence[float] = SCHEDULE) -> DeliveryPlan:
    return plan_delivery(rules, recipient=recipient, tags=tags, headers=headers, suppression=suppression,
                         retry_schedule=schedule, sending_domain="mg.example.com")


def delivered(at: float = 0.0) -> Step:
    return Step(at, "delivered", None, None, 250, "OK", None)


# --------------------------------------------------------------------------- parsing


def test_parse_rule_reads_every_matcher_and_lists_the_outcome() -> None:
    """A rule with all four matchers parses, and its API view shows them with the outcome as a list."""
    r = rule({"match": {"recipient": "^bounce@", "domain": "example\\.org$", "tag": "newsletter",
                        "header": ["X-Campaign", "^spring"]}, "outcome": "bounce"})
    assert r.to_json() == {
        "id": "r1",
        "match": {"recipient": "^bounce@", "domain": "example\\.org$", "tag": "newsletter",
                  "header": ["X-Campaign", "^spring"]},
        "outcome": ["bounce"],
        "code": 550,
        "description": "5.1.1 The email account that you tried to reach does not exist",
    }


def test_parse_rule_fills_the_defaults_of_each_outcome() -> None:
    """temporary-fail defaults to 1 retry and 421, reject to status 400 and the domain-naming message."""
    temp = rule({"match": {"recipient": "flaky@"}, "outcome": "temporary-fail"})
    assert (temp.retries, temp.code, temp.description) == (1, 421, "4.4.2 Connection timed out")
    reject = rule({"outcome": "reject"})
    assert (reject.status, reject.message, reject.code, reject.retries) == (400, None, None, None)
    assert rule({"outcome": ["open", "click"]}).to_json() == {"id": "r1", "match": {}, "outcome": ["open", "click"]}


def test_parse_rule_keeps_the_options_given() -> None:
    """retries, status, message, code and description given in the JSON are kept."""
    temp = rule({"outcome": ["temporary-fail", "open"], "retries": 2, "code": 450, "description": "4.2.0 Busy"})
    assert (temp.outcome, temp.retries, temp.code, temp.description) == (("temporary-fail", "open"), 2, 450, "4.2.0 Busy")
    reject = rule({"match": {"domain": "blocked\\.test"}, "outcome": "reject", "status": 400,
                   "message": "Domain blocked.test is not allowed"})
    assert reject.to_json()["message"] == "Domain blocked.test is not allowed"


def test_parse_rule_treats_null_as_absent() -> None:
    """A field or matcher given as null is the same as leaving it out."""
    assert rule({"match": {"tag": None}, "outcome": "deliver", "retries": None}) == rule({"outcome": "deliver"})


@pytest.mark.parametrize(("data", "fragment"), [
    ([], "a rule must be a JSON object"),
    ({}, "'outcome' is required"),
    ({"outcome": "deliver", "id": "x"}, "'id' is assigned by the mock"),
    ({"outcome": "deliver", "when": 1}, "unknown rule field 'when'"),
    ({"outcome": "explode"}, "unknown outcome 'explode'"),
    ({"outcome": []}, "'outcome' must be an outcome or a non-empty list"),
    ({"outcome": 3}, "'outcome' must be an outcome or a non-empty list"),
    ({"outcome": ["open", 1]}, "unknown outcome 1"),
    ({"outcome": ["open", "open"]}, "'outcome' lists 'open' more than once"),
    ({"outcome": ["bounce", "open"]}, "outcome 'bounce' can't be combined"),
    ({"outcome": ["deliver", "reject"]}, "outcome 'reject' can't be combined"),
    ({"outcome": ["open", "temporary-fail"]}, "'temporary-fail' must come first"),
    ({"outcome": "temporary-fail", "retries": 11}, "'retries' must be an integer from 0 to 10, got 11"),
    ({"outcome": "temporary-fail", "retries": -1}, "'retries' must be an integer from 0 to 10"),
    ({"outcome": "temporary-fail", "retries": True}, "'retries' must be an integer"),
    ({"outcome": "temporary-fail", "retries": "2"}, "'retries' must be an integer"),
    ({"outcome": "bounce", "retries": 2}, "'retries' does not apply to outcome 'bounce'"),
    ({"outcome": "reject", "status": 200}, "'status' must be an integer from 400 to 599, got 200"),
    ({"outcome": "reject", "status": 600}, "'status' must be an integer from 400 to 599"),
    ({"outcome": "reject", "message": 5}, "'message' must be a string"),
    ({"outcome": "deliver", "status": 400}, "'status' does not apply to outcome 'deliver'"),
    ({"outcome": "open", "message": "x"}, "'message' does not apply to outcome 'open'"),
    ({"outcome": "bounce", "code": 99}, "'code' must be an integer from 100 to 999, got 99"),
    ({"outcome": "bounce", "code": 550.0}, "'code' must be an integer"),
    ({"outcome": "bounce", "description": ["x"]}, "'description' must be a string"),
    ({"outcome": "reject", "code": 550}, "'code' does not apply to outcome 'reject'"),
    ({"outcome": "click", "description": "x"}, "'description' does not apply to outcome 'click'"),
    ({"outcome": "deliver", "match": "all"}, "'match' must be an object"),
    ({"outcome": "deliver", "match": {"sender": "x"}}, "unknown matcher 'sender' in 'match'"),
    ({"outcome": "deliver", "match": {"recipient": "(unclosed"}}, "'match.recipient' is not a valid regular expression"),
    ({"outcome": "deliver", "match": {"domain": "*x"}}, "'match.domain' is not a valid regular expression"),
    ({"outcome": "deliver", "match": {"recipient": 5}}, "'match.recipient' must be a regular expression string"),
    ({"outcome": "deliver", "match": {"tag": ""}}, "'match.tag' must be a non-empty string"),
    ({"outcome": "deliver", "match": {"tag": ["a"]}}, "'match.tag' must be a non-empty string"),
    ({"outcome": "deliver", "match": {"header": "X-Campaign"}}, "'match.header' must be [header name, regular expression]"),
    ({"outcome": "deliver", "match": {"header": ["X-A", "b", "c"]}}, "'match.header' must be [header name"),
    ({"outcome": "deliver", "match": {"header": [" ", "b"]}}, "'match.header' must be [header name"),
    ({"outcome": "deliver", "match": {"header": ["X-A", None]}}, "'match.header' must be [header name"),
    ({"outcome": "deliver", "match": {"header": ["X-A", "[z-a]"]}}, "'match.header' is not a valid regular expression"),
])
def test_parse_rule_rejects_bad_input(data: Any, fragment: str) -> None:
    """Invalid rule JSON raises BadRequest with a message naming what is wrong."""
    with pytest.raises(BadRequest) as caught:
        parse_rule(data, rule_id="r1")
    assert fragment in caught.value.message
    assert caught.value.status == 400


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["deliver", "bounce", "temporary-fail", "open", "click", "reject", "unsubscribe", "(", "^a@"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["recipient", "domain", "tag", "header", "x"]) | st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
_rules = st.dictionaries(
    st.sampled_from(["match", "outcome", "retries", "status", "message", "code", "description", "id"]) | st.text(max_size=5),
    _json, max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_rules, _json))
def test_parse_rule_raises_only_bad_request_on_random_json(data: Any) -> None:
    """Whatever JSON comes in, parsing yields a Rule or raises BadRequest, and a Rule survives snapshot and plan."""
    try:
        parsed = parse_rule(data, rule_id="r1")
    except BadRequest:
        return
    assert Rule.from_dict(json.loads(json.dumps(parsed.to_dict()))) == parsed
    result = plan([parsed], "a@b.c", tags=["t"], headers=Headers(("X", "y")))
    assert result.reject is not None or result.steps


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize(("match", "recipient", "expected"), [
    ({"recipient": "^bounce@"}, "bounce@example.org", True),
    ({"recipient": "^bounce@"}, "BOUNCE@Example.org", True),
    ({"recipient": "^bounce@"}, "nobounce@example.org", False),
    ({"recipient": "flaky@"}, "very-flaky@example.org", True),
    ({"domain": "example\\.org$"}, "a@EXAMPLE.ORG", True),
    ({"domain": "example\\.org$"}, "a@example.org.evil", False),
    ({"domain": "^example"}, "example@other.net", False),
    ({}, "anyone@anywhere.test", True),
])
def test_rule_matches_recipient_and_domain(match: dict[str, Any], recipient: str, expected: bool) -> None:
    """recipient and domain (the part after the last @) are searched case-insensitively."""
    matched, _ = rule({"match": match, "outcome": "deliver"}).matches(recipient, [], NO_HEADERS)
    assert matched is expected


@pytest.mark.parametrize(("tags", "expected"), [(["newsletter"], True), (["a", "NewsLetter"], True),
                                                (["news"], False), ([], False)])
def test_rule_matches_tag(tags: list[str], expected: bool) -> None:
    """tag matches when the message carries it, in any case, and only exactly."""
    matched, _ = rule({"match": {"tag": "newsletter"}, "outcome": "deliver"}).matches("a@b.c", tags, NO_HEADERS)
    assert matched is expected


@pytest.mark.parametrize(("headers", "expected"), [
    (Headers(("X-Campaign", "spring-sale")), True),
    (Headers(("x-campaign", "autumn"), ("X-Campaign", "spring")), True),
    (Headers(("X-Campaign", "Spring")), False),
    (Headers(("X-Campaign", "late spring")), False),
    (Headers(("Subject", "spring")), False),
])
def test_rule_matches_header(headers: Headers, expected: bool) -> None:
    """header searches every value of the named header, case-sensitively."""
    r = rule({"match": {"header": ["X-Campaign", "^spring"]}, "outcome": "deliver"})
    assert r.matches("a@b.c", [], headers)[0] is expected


def test_rule_matches_only_when_every_matcher_does() -> None:
    """With several matchers, each must match; the reason names the first that doesn't."""
    r = rule({"match": {"recipient": "^bounce@", "domain": "example\\.org$", "tag": "newsletter",
                        "header": ["X-Campaign", "^spring"]}, "outcome": "bounce"})
    spring = Headers(("X-Campaign", "spring"))
    assert r.matches("bounce@example.org", ["newsletter"], spring)[0]
    assert not r.matches("bounce@example.com", ["newsletter"], spring)[0]
    assert not r.matches("bounce@example.org", [], spring)[0]
    matched, why = r.matches("bounce@example.org", ["newsletter"], NO_HEADERS)
    assert not matched and "the message has no header 'X-Campaign'" in why


def test_rule_matches_explains_itself() -> None:
    """The reason lists what was compared, and an empty match says it matches everything."""
    _, why = rule({"match": {"recipient": "^b@"}, "outcome": "deliver"}).matches("a@x.y", [], NO_HEADERS)
    assert why == "recipient 'a@x.y' does not match '^b@'"
    assert rule({"outcome": "deliver"}).matches("a@x.y", [], NO_HEADERS) == (True, "the rule matches every message")


def test_rule_matches_counts_a_timeout_as_no_match() -> None:
    """A catastrophic pattern is abandoned after the timeout and counts as no match."""
    r = rule({"match": {"recipient": "(a|aa)+$"}, "outcome": "deliver"})
    matched, why = r.matches("a" * 60 + "!", [], NO_HEADERS, timeout=0.05)
    assert not matched and "timed out" in why


# --------------------------------------------------------------------------- plans


def test_plan_delivery_delivers_when_no_rule_matches() -> None:
    """With no matching rule the plan is plain delivery at once."""
    result = plan([rule({"match": {"recipient": "^zed@"}, "outcome": "bounce"})])
    assert result == DeliveryPlan((delivered(),), None, None, "no rule matched: plain delivery")


def test_plan_delivery_follows_the_first_matching_rule() -> None:
    """Rules are consulted in the order given and the first match wins."""
    rules = [rule({"match": {"recipient": "^zed@"}, "outcome": "reject"}, "r1"),
             rule({"match": {"domain": "example"}, "outcome": "bounce"}, "r2"),
             rule({"outcome": "open"}, "r3")]
    result = plan(rules)
    assert result.rule_id == "r2" and result.steps[0].reason == "bounce"
    assert result.explanation == "rule r2 matched: domain 'example.org' matches 'example'"


def test_plan_delivery_deliver_delivers_at_once() -> None:
    """deliver plans one delivered step at 0."""
    assert plan([rule({"outcome": "deliver"})]).steps == (delivered(),)


def test_plan_delivery_bounce_fails_permanently_and_suppresses() -> None:
    """bounce plans one permanent failure at 0 that adds the address to the bounces list."""
    assert plan([rule({"outcome": "bounce", "code": 554, "description": "5.7.1 Rejected"})]).steps == (
        Step(0.0, "failed", "permanent", "bounce", 554, "5.7.1 Rejected", "bounces"),)


def test_plan_delivery_temporary_fail_then_delivery() -> None:
    """temporary-fail with retries=2 fails at 0 and 600, then delivers at 1200."""
    temp = Step(0.0, "failed", "temporary", "generic", 421, "4.4.2 Connection timed out", None)
    assert plan([rule({"outcome": "temporary-fail", "retries": 2})]).steps == (
        temp, dataclasses.replace(temp, after=600.0), delivered(1200.0))


def test_plan_delivery_temporary_fail_with_zero_retries_delivers_at_once() -> None:
    """temporary-fail with retries=0 is plain delivery."""
    assert plan([rule({"outcome": "temporary-fail", "retries": 0})]).steps == (delivered(),)


def test_plan_delivery_temporary_fail_beyond_the_schedule_becomes_permanent() -> None:
    """More retries than the schedule holds: temporary failures, then a permanent one at the last attempt."""
    steps = plan([rule({"outcome": ["temporary-fail", "open"], "retries": 5})], schedule=(600.0, 300.0)).steps
    assert [(s.after, s.kind, s.severity, s.reason, s.suppress) for s in steps] == [
        (0.0, "failed", "temporary", "generic", None),
        (600.0, "failed", "temporary", "generic", None),
        (900.0, "failed", "permanent", "old", None),
    ]
    assert plan([rule({"outcome": "temporary-fail"})], schedule=()).steps[0].severity == "permanent"


def test_plan_delivery_temporary_fail_then_engagement() -> None:
    """Engagement after temporary-fail follows the eventual delivery."""
    steps = plan([rule({"outcome": ["temporary-fail", "click"], "retries": 1})]).steps
    assert [(s.after, s.kind) for s in steps] == [(0.0, "failed"), (600.0, "delivered"), (720.0, "clicked")]


@pytest.mark.parametrize(("outcome", "expected"), [
    ("open", [(0.0, "delivered", None), (60.0, "opened", None)]),
    ("click", [(0.0, "delivered", None), (120.0, "clicked", None)]),
    ("unsubscribe", [(0.0, "delivered", None), (180.0, "unsubscribed", "unsubscribes")]),
    ("complain", [(0.0, "delivered", None), (240.0, "complained", "complaints")]),
    (["complain", "deliver", "click", "open", "unsubscribe"],
     [(0.0, "delivered", None), (60.0, "opened", None), (120.0, "clicked", None),
      (180.0, "unsubscribed", "unsubscribes"), (240.0, "complained", "complaints")]),
])
def test_plan_delivery_engagement_follows_delivery_in_order(outcome: Any, expected: list[tuple[float, str, str | None]]) -> None:
    """Engagement follows delivery at fixed offsets, in the same order whatever the list's order."""
    steps = plan([rule({"outcome": outcome})]).steps
    assert [(s.after, s.kind, s.suppress) for s in steps] == expected
    assert all((s.severity, s.reason, s.code, s.description) == (None, None, 0, "") for s in steps[1:])


def test_plan_delivery_reject_refuses_at_the_api() -> None:
    """reject plans no events and the API error, by default naming the sending domain."""
    assert plan([rule({"outcome": "reject"})]) == DeliveryPlan(
        (), (400, "Domain mg.example.com is not allowed to send: rejected by a mock rule"), "r1",
        "rule r1 matched: the rule matches every message")
    custom = rule({"outcome": "reject", "status": 403, "message": "Domain blocked.test is not allowed"})
    assert plan([custom]).reject == (403, "Domain blocked.test is not allowed")
    no_domain = plan_delivery([rule({"outcome": "reject"})], recipient="a@rcpt.test", tags=[], headers=NO_HEADERS,
                              suppression=None, retry_schedule=())
    assert no_domain.reject == (400, "Domain rcpt.test is not allowed to send: rejected by a mock rule")


def test_plan_delivery_suppression_overrides_rules_except_reject() -> None:
    """A suppressed address fails with the list's reason whatever the rule, but a reject rule still rejects."""
    hit = SuppressionHit("bounces", "suppress-bounce", 605, "Not delivering to previously bounced address")
    expected = (Step(0.0, "failed", "permanent", "suppress-bounce", 605, "Not delivering to previously bounced address", None),)
    assert plan([], suppression=hit).steps == expected
    overridden = plan([rule({"outcome": ["open", "click"]})], suppression=hit)
    assert overridden.steps == expected and overridden.rule_id is None
    assert overridden.explanation == "suppressed: the address is on the bounces list, overriding rule r1"
    assert plan([rule({"outcome": "reject"})], suppression=hit).reject is not None


# --------------------------------------------------------------------------- suppressions


def test_suppressions_lookup_precedence() -> None:
    """A bounce wins over a complaint, which wins over an unsubscribe, each with its reason and code."""
    s = Suppressions()
    s.add("unsubscribes", "mg.test", "a@x.test", created_at=1.0)
    assert s.lookup("mg.test", "a@x.test") == SuppressionHit(
        "unsubscribes", "suppress-unsubscribe", 606, "Not delivering to unsubscribed address")
    s.add("complaints", "mg.test", "a@x.test", created_at=2.0)
    assert s.lookup("mg.test", "a@x.test") == SuppressionHit(
        "complaints", "suppress-complaint", 607, "Not delivering to a user who marked your messages as spam")
    s.add("bounces", "mg.test", "a@x.test", created_at=3.0)
    assert s.lookup("mg.test", "a@x.test") == SuppressionHit(
        "bounces", "suppress-bounce", 605, "Not delivering to previously bounced address")


def test_suppressions_lookup_is_per_domain_and_ignores_case() -> None:
    """Lists are per sending domain; addresses and domains compare in any case."""
    s = Suppressions()
    s.add("bounces", "MG.test", "Alice@X.test", created_at=1.0)
    assert s.lookup("mg.TEST", "alice@x.TEST") is not None
    assert s.lookup("other.test", "alice@x.test") is None
    assert s.lookup("mg.test", "bob@x.test") is None


def test_suppressions_unsubscribe_per_tag() -> None:
    """An unsubscribe from a tag stops only messages with that tag; ``*`` stops them all."""
    s = Suppressions()
    s.add("unsubscribes", "mg.test", "a@x.test", created_at=1.0, tag="newsletter")
    assert s.lookup("mg.test", "a@x.test") is None
    assert s.lookup("mg.test", "a@x.test", tags=["other"]) is None
    assert s.lookup("mg.test", "a@x.test", tags=["other", "Newsletter"]) is not None
    s.add("unsubscribes", "mg.test", "a@x.test", created_at=2.0, tag="*")
    assert s.lookup("mg.test", "a@x.test") is not None
    assert s.items("unsubscribes", "mg.test")[0]["tags"] == ["newsletter", "*"]


def test_suppressions_item_shapes() -> None:
    """Each list renders in Mailgun's API shape: bounce codes as strings, unsubscribes with tags, RFC 2822 UTC dates."""
    s = Suppressions()
    s.add("bounces", "mg.test", "bob@x.test", code=550, error="No such mailbox", created_at=OCT_13_2011)
    s.add("bounces", "mg.test", "alice@x.test", created_at=OCT_13_2011)
    s.add("unsubscribes", "mg.test", "carol@x.test", created_at=OCT_13_2011)
    s.add("complaints", "mg.test", "dan@x.test", created_at=OCT_13_2011)
    date = "Thu, 13 Oct 2011 18:02:00 UTC"
    assert s.items("bounces", "mg.test") == [
        {"address": "alice@x.test", "code": "550", "error": "", "created_at": date},
        {"address": "bob@x.test", "code": "550", "error": "No such mailbox", "created_at": date},
    ]
    assert s.items("unsubscribes", "mg.test") == [{"address": "carol@x.test", "tags": ["*"], "created_at": date}]
    assert s.items("complaints", "mg.test") == [{"address": "dan@x.test", "created_at": date}]
    assert s.get("complaints", "MG.test", "DAN@x.test") == {"address": "dan@x.test", "created_at": date}
    assert s.get("complaints", "mg.test", "nobody@x.test") is None
    assert s.items("bounces", "unknown.test") == []
    assert [list(item) for item in s.items("bounces", "mg.test")] == [["address", "code", "error", "created_at"]] * 2


def test_suppressions_add_updates_the_existing_record() -> None:
    """Adding an address again replaces its bounce record rather than duplicating it."""
    s = Suppressions()
    s.add("bounces", "mg.test", "a@x.test", code=550, error="old", created_at=1.0)
    s.add("bounces", "mg.test", "A@x.test", code=551, error="new", created_at=2.0)
    assert s.items("bounces", "mg.test") == [{"address": "A@x.test", "code": "551", "error": "new",
                                              "created_at": rfc2822(2.0)}]


def test_suppressions_remove_and_clear() -> None:
    """remove drops an address (or one unsubscribe tag); clear empties a list, a domain, or everything."""
    s = Suppressions()
    s.add("unsubscribes", "mg.test", "a@x.test", created_at=1.0, tag="t1")
    s.add("unsubscribes", "mg.test", "a@x.test", created_at=1.0, tag="t2")
    assert s.remove("unsubscribes", "mg.test", "a@x.test", tag="t1")
    assert not s.remove("unsubscribes", "mg.test", "a@x.test", tag="t1")
    assert s.items("unsubscribes", "mg.test")[0]["tags"] == ["t2"]
    assert s.remove("unsubscribes", "mg.test", "A@x.test", tag="t2")
    assert s.items("unsubscribes", "mg.test") == []
    assert not s.remove("bounces", "mg.test", "a@x.test")
    s.add("bounces", "mg.test", "a@x.test", created_at=1.0)
    s.add("bounces", "other.test", "a@x.test", created_at=1.0)
    s.add("complaints", "mg.test", "a@x.test", created_at=1.0)
    s.clear("bounces", "mg.test")
    assert s.lookup("mg.test", "a@x.test") == SuppressionHit(
        "complaints", "suppress-complaint", 607, "Not delivering to a user who marked your messages as spam")
    assert s.lookup("other.test", "a@x.test") is not None
    s.clear()
    assert s.to_dict() == {"bounces": {}, "unsubscribes": {}, "complaints": {}, "whitelists": {}}


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda s: s.add("spam", "d", "a@x", created_at=1.0), "unknown suppression list 'spam'"),
    (lambda s: s.add("bounces", "d", "a@x", created_at=1.0, tag="t"), "'tag' applies only to unsubscribes"),
    (lambda s: s.remove("complaints", "d", "a@x", tag="t"), "'tag' applies only to unsubscribes"),
    (lambda s: s.items("spam", "d"), "unknown suppression list"),
    (lambda s: s.clear("spam"), "unknown suppression list"),
])
def test_suppressions_reject_bad_input(call: Any, fragment: str) -> None:
    """An unknown list, or a tag outside unsubscribes, raises BadRequest."""
    with pytest.raises(BadRequest, match=fragment):
        call(Suppressions())


# --------------------------------------------------------------------------- snapshots


@pytest.mark.parametrize("data", [
    {"match": {"recipient": "^b@", "domain": "x$", "tag": "t", "header": ["X-A", "y"]}, "outcome": "bounce"},
    {"outcome": ["temporary-fail", "open", "click"], "retries": 3, "code": 450, "description": "busy"},
    {"outcome": "reject", "status": 503, "message": "no"},
    {"outcome": "reject"},
    {"outcome": ["deliver", "unsubscribe", "complain"]},
])
def test_rule_to_dict_round_trips_exactly(data: dict[str, Any]) -> None:
    """Every kind of rule survives to_dict, JSON and from_dict unchanged."""
    r = rule(data)
    dumped = json.loads(json.dumps(r.to_dict()))
    assert Rule.from_dict(dumped) == r
    assert Rule.from_dict(dumped).to_dict() == dumped


@pytest.mark.parametrize(("data", "fragment"), [
    ({"id": "r1", "outcome": "deliver"}, "Rule: expected an object with exactly the fields"),
    ({"id": "r9", "match": {}, "outcome": ["nope"], "retries": None, "status": None, "message": None, "code": None,
      "description": None}, "Rule 'r9': unknown outcome 'nope'"),
])
def test_rule_from_dict_rejects_bad_data(data: dict[str, Any], fragment: str) -> None:
    """A snapshot record that doesn't fit raises ValueError naming the rule."""
    with pytest.raises(ValueError, match=fragment):
        Rule.from_dict(data)


def test_suppressions_to_dict_round_trips_exactly() -> None:
    """Every list survives to_dict, JSON and from_dict unchanged."""
    s = Suppressions()
    s.add("bounces", "mg.test", "b@x.test", code=554, error="Rejected", created_at=1.5)
    s.add("bounces", "other.test", "a@x.test", created_at=2)
    s.add("unsubscribes", "mg.test", "c@x.test", created_at=3.0, tag="news")
    s.add("complaints", "mg.test", "d@x.test", created_at=4.0)
    dumped = json.loads(json.dumps(s.to_dict()))
    loaded = Suppressions.from_dict(dumped)
    assert loaded.to_dict() == dumped
    for kind in ("bounces", "unsubscribes", "complaints"):
        assert loaded.items(kind, "mg.test") == s.items(kind, "mg.test")
    assert loaded.lookup("mg.test", "c@x.test", tags=["news"]) is not None


@pytest.mark.parametrize("data", [
    {"bounces": {}, "unsubscribes": {}},
    {"bounces": [], "unsubscribes": {}, "complaints": {}},
    {"bounces": {"d": {}}, "unsubscribes": {}, "complaints": {}},
    {"bounces": {"d": [{"address": "a@x"}]}, "unsubscribes": {}, "complaints": {}},
    {"bounces": {"d": [{"address": "a@x", "created_at": 1, "code": "550", "error": ""}]}, "unsubscribes": {},
     "complaints": {}},
    {"bounces": {}, "unsubscribes": {"d": [{"address": "a@x", "created_at": 1, "tags": "*"}]}, "complaints": {}},
    {"bounces": {}, "unsubscribes": {}, "complaints": {"d": [{"address": "a@x", "created_at": True}]}},
])
def test_suppressions_from_dict_rejects_bad_data(data: dict[str, Any]) -> None:
    """A snapshot that doesn't fit raises ValueError naming Suppressions."""
    with pytest.raises(ValueError, match="Suppressions"):
        Suppressions.from_dict(data)


def test_rfc2822_formats_in_utc() -> None:
    """Suppression dates read like Mailgun's: ``Thu, 13 Oct 2011 18:02:00 UTC``."""
    assert rfc2822(OCT_13_2011) == "Thu, 13 Oct 2011 18:02:00 UTC"
    assert rfc2822(0) == "Thu, 01 Jan 1970 00:00:00 UTC"
