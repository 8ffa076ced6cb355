"""Mock rules: what happens to a sent message, decided in advance (pure: no I/O, no clock).

A test registers rules (``POST /mock/rules``). For each recipient of a sent message the backend
calls :func:`plan_delivery`: the first matching rule, in creation order, says which events follow
and when, on the mock's clock. :class:`Suppressions` keeps Mailgun's per-domain bounce, complaint
and unsubscribe lists, which override every rule except ``reject``. A rule reads::

    {"match": {"recipient": REGEX, "domain": REGEX, "tag": TAG, "header": [NAME, REGEX]},
     "outcome": OUTCOME | [OUTCOME, ...],
     "retries": 0-10, "status": 400-599, "message": TEXT, "code": SMTP-CODE, "description": TEXT,
     "limit": N, "window": SECONDS, "country": CC, "device": DEVICE}

A rule whose outcome is an address verdict (``deliverable``, ``undeliverable``, ``do_not_send``,
``catch_all``, ``unknown``: :data:`VERDICTS`) never touches sending: it forces what
``/v4/address/validate`` answers for the addresses it matches (``recipient``, ``domain``), its
``description`` the verdict's reason (:func:`verdict_rule`).

``rate-limit`` counts the matching sends (requests, not chance): past ``limit`` of them within
``window`` seconds of the mock's clock the API answers Mailgun's 429. Reserved test recipients
(``delivered@``, ``bounce@``, ``complain@``, ``unsubscribe@``, ``defer@``, ``reject@`` at the test
recipient domain, each with an optional ``+label``) act as the rule of that name when no rule matches.

Choices where Mailgun documents nothing: a temporary failure has reason ``generic``; running out of
retries ends in a permanent failure with reason ``old`` and the same SMTP code, which (being a soft
bounce) adds nobody to the bounce list. Engagement follows delivery by 60 s (opened), 120 s (clicked),
180 s (unsubscribed) and 240 s (complained). Suppressed sends fail with codes 605/606/607.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import regex

from ..base.addresses import domain_of
from ..base.errors import BadRequest
from ..base.logtext import shorten
from ..base.records import ListKind, SuppressionHit
from .filters import NO_HEADERS, HeaderSource, compile_pattern
from .rule_fields import choice as _choice
from .rule_fields import int_field as _int
from .rule_fields import tag as _tag
from .rule_fields import text as _text

__all__ = ["DEVICES", "DeliveryPlan", "ENGAGEMENT_EVENTS", "MATCH_TIMEOUT", "OUTCOMES", "Rule", "Step", "VERDICTS",
           "engagement_step", "parse_rule", "plan_delivery", "reserved_rule", "verdict_rule"]

StepKind = Literal["delivered", "failed", "opened", "clicked", "unsubscribed", "complained"]
Severity = Literal["temporary", "permanent"]

#: The verdicts of ``/v4/address/validate`` a rule can force (Mailgun's ``result`` values).
VERDICTS = ("deliverable", "undeliverable", "do_not_send", "catch_all", "unknown")
OUTCOMES = ("deliver", "bounce", "temporary-fail", "complain", "unsubscribe", "open", "click", "reject",
            "rate-limit", *VERDICTS)
MATCH_TIMEOUT = 0.05  # seconds one matcher's regex may run; a timeout counts as no match
_FIELDS = ("match", "outcome", "retries", "status", "message", "code", "description", "limit", "window", "country",
           "device")
# rules snapshotted before rate-limit existed lack limit and window; before analytics, country and device
_OLD_FIELD_SETS = ({"id", *_FIELDS[:7]}, {"id", *_FIELDS[:9]}, {"id", *_FIELDS})
#: The device types an engagement may come from.
DEVICES = ("desktop", "mobile", "tablet", "unknown")
_MATCHERS = ("recipient", "domain", "tag", "header")
_ALONE = ("bounce", "reject", "rate-limit", *VERDICTS)
# Engagement, in the order it happens: step kind, seconds after delivery, list it adds the address to.
_ENGAGEMENT: dict[str, tuple[StepKind, float, ListKind | None]] = {
    "open": ("opened", 60.0, None),
    "click": ("clicked", 120.0, None),
    "unsubscribe": ("unsubscribed", 180.0, "unsubscribes"),
    "complain": ("complained", 240.0, "complaints"),
}
#: The engagement events, in the order they happen.
ENGAGEMENT_EVENTS: tuple[StepKind, ...] = tuple(kind for kind, _, _ in _ENGAGEMENT.values())
_FAILURE_DEFAULTS = {
    "bounce": (550, "5.1.1 The email account that you tried to reach does not exist"),
    "temporary-fail": (421, "4.4.2 Connection timed out"),
}



@functools.lru_cache(maxsize=1024)
def _compile(pattern: str, flags: int) -> regex.Pattern[str]:
    return compile_pattern(pattern, flags)


# --------------------------------------------------------------------------- rules


@dataclasses.dataclass(frozen=True)
class Rule:
    """A validated mock rule. Build it with :func:`parse_rule`.

    Options that don't apply to the outcome are ``None``; those that do hold their effective value,
    except ``message``, whose ``None`` means the default naming the sending domain.
    """

    id: str
    outcome: tuple[str, ...]
    recipient: str | None = None
    domain: str | None = None
    tag: str | None = None
    header: tuple[str, str] | None = None
    retries: int | None = None
    status: int | None = None
    message: str | None = None
    code: int | None = None
    description: str | None = None
    limit: int | None = None
    window: int | None = None
    country: str | None = None
    device: str | None = None

    def matches(self, recipient: str, tags: Sequence[str], headers: HeaderSource,
                *, timeout: float = MATCH_TIMEOUT) -> tuple[bool, str]:
        """Whether every matcher given matches one recipient of a message, and why (or why not).

        ``recipient`` and ``domain`` (the part after the last ``@``) are searched ignoring case; ``tag``
        is compared ignoring case; ``header`` searches every value of the header, minding case.
        """
        reasons: list[str] = []
        for ok, why in self._checks(recipient, tags, headers, timeout):
            reasons.append(why)
            if not ok:
                return False, "; ".join(reasons)
        return True, "; ".join(reasons) or "the rule matches every message"

    def _checks(self, recipient: str, tags: Sequence[str], headers: HeaderSource,
                timeout: float) -> Iterator[tuple[bool, str]]:
        if self.recipient is not None:
            yield _search("recipient", self.recipient, regex.IGNORECASE, [recipient], timeout)
        if self.domain is not None:
            yield _search("domain", self.domain, regex.IGNORECASE, [domain_of(recipient)], timeout)
        if self.tag is not None:
            found = self.tag.casefold() in {t.casefold() for t in tags}
            yield found, f"tag {self.tag!r} {'present' if found else 'absent'}"
        if self.header is not None:
            name, pattern = self.header
            values = headers.header_values(name)
            yield (_search(f"header {name!r}", pattern, 0, values, timeout) if values
                   else (False, f"the message has no header {name!r}"))

    def to_json(self) -> dict[str, Any]:
        """The rule as ``GET /mock/rules`` shows it: id, matchers, outcome list, options set."""
        return {key: value for key, value in self.to_dict().items() if value is not None}

    def to_dict(self) -> dict[str, Any]:
        """The rule as a snapshot keeps it: every option, ``null`` where it doesn't apply."""
        match: dict[str, Any] = {}
        for key in ("recipient", "domain", "tag"):
            if getattr(self, key) is not None:
                match[key] = getattr(self, key)
        if self.header is not None:
            match["header"] = list(self.header)
        return {"id": self.id, "match": match, "outcome": list(self.outcome), "retries": self.retries,
                "status": self.status, "message": self.message, "code": self.code, "description": self.description,
                "limit": self.limit, "window": self.window, "country": self.country, "device": self.device}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """The rule :meth:`to_dict` made.

        :raises ValueError: naming the rule and the field when the data doesn't fit.
        """
        if not isinstance(data, Mapping) or set(data) not in _OLD_FIELD_SETS \
                or not isinstance(data["id"], str):
            raise ValueError(f"Rule: expected an object with exactly the fields id, {', '.join(_FIELDS)}")
        try:
            return parse_rule({k: v for k, v in data.items() if k != "id"}, rule_id=data["id"])
        except BadRequest as exc:
            raise ValueError(f"Rule {data['id']!r}: {exc.message}") from None


def _search(what: str, pattern: str, flags: int, subjects: list[str], timeout: float) -> tuple[bool, str]:
    compiled = _compile(pattern, flags)
    for value in subjects:
        try:
            if compiled.search(value, timeout=timeout) is not None:
                return True, f"{what} {shorten(value)} matches {pattern!r}"
        except TimeoutError:
            return False, f"{what} {pattern!r}: matching timed out, counted as no match"
    shown = ", ".join(shorten(v) for v in subjects[:3]) + (", …" if len(subjects) > 3 else "")
    return False, f"{what} {shown} does not match {pattern!r}"


def parse_rule(data: Mapping[str, Any], *, rule_id: str) -> Rule:
    """Validate a rule's JSON. A ``null`` field counts as absent.

    :param rule_id: the id the caller assigned.
    :raises BadRequest: naming the field that is unknown, missing, mistyped or out of range.
    """
    if not isinstance(data, Mapping):
        raise BadRequest(f"a rule must be a JSON object, got {shorten(data)}")
    for key in data:
        if key == "id":
            raise BadRequest("'id' is assigned by the mock: leave it out of the rule")
        if key not in _FIELDS:
            raise BadRequest(f"unknown rule field {shorten(key)} (fields are {', '.join(_FIELDS)})")
    fields = {k: v for k, v in data.items() if v is not None}
    if "outcome" not in fields:
        raise BadRequest("'outcome' is required")
    outcome = _outcome(fields["outcome"])
    first = outcome[0]
    engaged = any(name in outcome for name in _ENGAGEMENT)
    applies = {"retries": first == "temporary-fail", "status": first == "reject", "message": first == "reject",
               "code": first in _FAILURE_DEFAULTS, "description": first in (*_FAILURE_DEFAULTS, *VERDICTS),
               "limit": first == "rate-limit", "window": first == "rate-limit",
               "country": engaged, "device": engaged}
    for key, ok in applies.items():
        if key in fields and not ok:
            raise BadRequest(f"'{key}' does not apply to outcome {first!r}")
    match = fields.get("match", {})
    if not isinstance(match, Mapping):
        raise BadRequest(f"'match' must be an object, got {shorten(match)}")
    for key in match:
        if key not in _MATCHERS:
            raise BadRequest(f"unknown matcher {shorten(key)} in 'match' (matchers are {', '.join(_MATCHERS)})")
    if first in VERDICTS and ("tag" in match or "header" in match):
        raise BadRequest(f"outcome {first!r} (an address verdict) matches only 'recipient' and 'domain'")
    code, description = _FAILURE_DEFAULTS.get(first, (None, None))
    return Rule(
        id=rule_id,
        outcome=outcome,
        recipient=_regex(match.get("recipient"), "match.recipient", regex.IGNORECASE),
        domain=_regex(match.get("domain"), "match.domain", regex.IGNORECASE),
        tag=_tag(match.get("tag")),
        header=_header(match.get("header")),
        retries=_int(fields, "retries", 0, 10, 1) if applies["retries"] else None,
        status=_int(fields, "status", 400, 599, 400) if applies["status"] else None,
        message=_text(fields, "message"),
        code=_int(fields, "code", 100, 999, code) if applies["code"] else None,
        description=_text(fields, "description", description) if applies["description"] else None,
        limit=_int(fields, "limit", 1, 1_000_000, 1) if applies["limit"] else None,
        window=_int(fields, "window", 1, 86_400, 60) if applies["window"] else None,
        country=_choice(fields, "country", None), device=_choice(fields, "device", DEVICES),
    )


def _outcome(value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise BadRequest(f"'outcome' must be an outcome or a non-empty list of outcomes, got {shorten(value)}")
    for item in items:
        if not isinstance(item, str) or item not in OUTCOMES:
            raise BadRequest(f"unknown outcome {shorten(item)} in 'outcome' (outcomes are {', '.join(OUTCOMES)})")
        if items.count(item) > 1:
            raise BadRequest(f"'outcome' lists {item!r} more than once")
    if len(items) > 1:
        for alone in _ALONE:
            if alone in items:
                raise BadRequest(f"outcome {alone!r} can't be combined with other outcomes")
        if "temporary-fail" in items[1:]:
            raise BadRequest("outcome 'temporary-fail' must come first: what follows happens after delivery")
    return tuple(items)


def _regex(value: object, field: str, flags: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{field}' must be a regular expression string, got {shorten(value)}")
    try:
        _compile(value, flags)
    except (regex.error, re.error, ValueError, OverflowError, RecursionError) as exc:
        raise BadRequest(f"'{field}' is not a valid regular expression: {exc}") from None
    return value


def _header(value: object) -> tuple[str, str] | None:
    if value is None:
        return None
    if (not isinstance(value, (list, tuple)) or len(value) != 2 or not isinstance(value[0], str)
            or not value[0].strip() or not isinstance(value[1], str)):
        raise BadRequest(f"'match.header' must be [header name, regular expression], got {shorten(value)}")
    _regex(value[1], "match.header", 0)
    return value[0], value[1]


# --------------------------------------------------------------------------- plans


@dataclasses.dataclass(frozen=True)
class Step:
    """One event the backend emits for a recipient.

    :param after: seconds after sending, on the mock's clock.
    :param code: the SMTP code for ``delivered``/``failed`` (250 on delivery); 0 for engagement.
    :param description: the SMTP reply text (``OK`` on delivery), or for ``suppress-*`` reasons
        Mailgun's own text (its ``delivery-status.description``); empty for engagement.
    :param suppress: the suppression list the backend adds the recipient to (unsubscribes with tag ``*``).
    :param engagement: an engagement's ``("country", …)`` and ``("device", …)`` as a rule gave them.
    """

    after: float
    kind: StepKind
    severity: Severity | None
    reason: str | None
    code: int
    description: str
    suppress: ListKind | None
    engagement: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class DeliveryPlan:
    """What happens to one recipient of a sent message.

    :param steps: the events to emit, in order of ``after``.
    :param reject: ``(status, message)`` when the send is to be refused at the API, with no events.
    :param rule_id: the rule followed, if one matched and was not overridden by a suppression.
    :param explanation: which rule matched and why, or why none did, or the suppression that won.
    :param rate_limit: ``(limit, window)`` of a ``rate-limit`` rule: the caller counts the sends.
    """

    steps: tuple[Step, ...]
    reject: tuple[int, str] | None = None
    rule_id: str | None = None
    explanation: str = ""
    rate_limit: tuple[int, float] | None = None


def plan_delivery(rules: Sequence[Rule], *, recipient: str, tags: Sequence[str], headers: HeaderSource,
                  suppression: SuppressionHit | None, retry_schedule: Sequence[float],
                  sending_domain: str | None = None, timeout: float = MATCH_TIMEOUT,
                  test_domain: str | None = None) -> DeliveryPlan:
    """Plan the events for one recipient: the first matching rule wins; with none, plain delivery.

    A suppression overrides every rule except ``reject``, which still refuses the send.

    :param retry_schedule: seconds between delivery attempts; ``temporary-fail`` with more retries
        than it has entries fails permanently (reason ``old``) at the last attempt.
    :param sending_domain: named in ``reject``'s default message (else the recipient's domain).
    :param test_domain: the reserved test recipients' domain: with no rule matching, their local part
        (before any ``+label``) names the outcome.
    """
    rule: Rule | None = None
    why = "no rule matched: plain delivery"
    for candidate in rules:
        if candidate.outcome[0] in VERDICTS:
            continue
        matched, reasons = candidate.matches(recipient, tags, headers, timeout=timeout)
        if matched:
            rule, why = candidate, f"rule {candidate.id} matched: {reasons}"
            break
    if rule is None and test_domain and domain_of(recipient).lower() == test_domain:
        rule = reserved_rule(recipient.rpartition("@")[0].partition("+")[0].lower())
        why = f"reserved test recipient {recipient}" if rule is not None else why
    if rule is not None and rule.outcome[0] == "reject":
        assert rule.status is not None
        domain = sending_domain or domain_of(recipient)
        message = rule.message
        if message is None:
            message = f"Domain {domain} is not allowed to send: rejected by a mock rule"
        return DeliveryPlan((), (rule.status, message), rule.id, why)
    if rule is not None and rule.outcome[0] == "rate-limit":
        assert rule.limit is not None and rule.window is not None
        rate = (rule.limit, rule.window)
        if suppression is None:
            return DeliveryPlan((Step(0.0, "delivered", None, None, 250, "OK", None),), None, rule.id, why, rate)
    else:
        rate = None
    if suppression is not None:
        overriding = f", overriding rule {rule.id}" if rule is not None else ""
        step = Step(0.0, "failed", "permanent", suppression.reason, suppression.code, suppression.description, None)
        return DeliveryPlan((step,), None, None, f"suppressed: the address is on the {suppression.kind} list{overriding}",
                            rate)
    if rule is None:
        return DeliveryPlan((Step(0.0, "delivered", None, None, 250, "OK", None),), None, None, why)
    return DeliveryPlan(_steps(rule, retry_schedule), None, rule.id, why)


def verdict_rule(rules: Sequence[Rule], address: str, *, timeout: float = MATCH_TIMEOUT) -> Rule | None:
    """The first verdict rule (outcome in :data:`VERDICTS`) matching ``address``, or ``None``."""
    for candidate in rules:
        if candidate.outcome[0] in VERDICTS and candidate.matches(address, (), NO_HEADERS, timeout=timeout)[0]:
            return candidate
    return None


def engagement_step(kind: str) -> Step:
    """The step of one engagement event (``opened``, ``clicked``, ``unsubscribed``, ``complained``), due at
    once, with the suppression list it adds the recipient to.

    :raises BadRequest: for any other kind.
    """
    for step_kind, _, suppress in _ENGAGEMENT.values():
        if step_kind == kind:
            return Step(0.0, step_kind, None, None, 0, "", suppress)
    raise BadRequest(f"'event' must be one of {', '.join(ENGAGEMENT_EVENTS)}, got {shorten(kind)}")


def _steps(rule: Rule, schedule: Sequence[float]) -> tuple[Step, ...]:
    code, description = rule.code or 0, rule.description or ""
    if rule.outcome[0] == "bounce":
        return (Step(0.0, "failed", "permanent", "bounce", code, description, "bounces"),)
    steps: list[Step] = []
    at = 0.0
    if rule.outcome[0] == "temporary-fail":
        retries = rule.retries or 0
        for delay in schedule[:retries]:
            steps.append(Step(at, "failed", "temporary", "generic", code, description, None))
            at += float(delay)
        if retries > len(schedule):
            steps.append(Step(at, "failed", "permanent", "old", code, description, None))
            return tuple(steps)
    steps.append(Step(at, "delivered", None, None, 250, "OK", None))
    where = tuple((k, v) for k, v in (("country", rule.country), ("device", rule.device)) if v is not None)
    for name, (kind, offset, suppress) in _ENGAGEMENT.items():
        if name in rule.outcome:
            steps.append(Step(at + offset, kind, None, None, 0, "", suppress, where))
    return tuple(steps)


#: The reserved test recipients: local part -> the rule they act as.
_RESERVED: dict[str, dict[str, Any]] = {"delivered": {"outcome": "deliver"}, "bounce": {"outcome": "bounce"},
             "complain": {"outcome": ["deliver", "complain"]}, "unsubscribe": {"outcome": ["deliver", "unsubscribe"]},
             "defer": {"outcome": "temporary-fail", "retries": 1},
             "reject": {"outcome": "reject", "message": "rejected: reserved test recipient reject@"}}


def reserved_rule(local_part: str) -> Rule | None:
    """The rule a reserved test recipient's local part acts as (``bounce`` -> a bounce…), or ``None``."""
    spec = _RESERVED.get(local_part)
    return None if spec is None else parse_rule(spec, rule_id=f"reserved-{local_part}")
