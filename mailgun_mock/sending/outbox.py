"""Sent mail: keep what the API built, log ``accepted``, then play each recipient's delivery plan
on the mock's clock (``delivered``/``failed``, engagement), with suppressions and loopback.

A send to an address the mock itself receives mail for (a served ``--domain``, or else the
sending domain) is also routed through the inbound routes once delivered, as Mailgun would after
delivering to its own MX, so an app's send → receive round trip works against one mock.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from email.utils import formatdate
from collections.abc import Callable, Sequence
from typing import Any

from ..base.addresses import domain_of
from ..base.clock import Clock
from ..base.config import Config
from ..base.errors import BadRequest, MailgunMockError
from ..base.ids import new_event_id, new_hex_id, new_storage_key
from ..base.logtext import printable
from ..base.records import SentMessage, StoredMessage
from ..lang.send_rules import DeliveryPlan, Step, engagement_step, plan_delivery
from ..mail.parse import ParsedMessage
from ..state.store import Store
from ..wire import event_bodies
from . import build
from . import form as sending

__all__ = ["Outbound", "RuleRejection", "user_variables"]

log = logging.getLogger("mailgun_mock")
QUEUED = "Queued. Thank you."


class RuleRejection(MailgunMockError):
    """A send refused at the API by a ``reject`` rule, with the rule's status and message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


#: What a test-mode send logs after ``accepted``: Mailgun's ``delivered`` with code 650.
_TEST_MODE = Step(0.0, "delivered", None, None, 650, "OK", None)


@dataclasses.dataclass(frozen=True)
class _Recipient:
    """What the delivery steps of one recipient need to build their events."""

    domain: str
    recipient: str
    sender: str
    message_id: str
    message: dict[str, Any]
    storage: dict[str, str]
    tags: tuple[str, ...]
    user_variables: dict[str, Any]
    raw: bytes
    click_url: str
    opens_tracked: bool
    clicks_tracked: bool
    test_mode: bool = False
    accepted_at: float = 0.0
    sending_ip: str = "127.0.0.1"


class Outbound:
    """Runs sends.

    :param emit: records an event (and POSTs it to the domain's webhooks).
    :param call_at: runs a callable when the mock's clock reaches a time.
    :param route_inbound: routes a delivered message through the inbound routes (loopback).
    """

    def __init__(self, config: Config, clock: Clock, store: Store, base_url: Callable[[], str],
                 emit: Callable[[str, dict[str, Any]], None], call_at: Callable[[float, Callable[[], None], str], None],
                 route_inbound: Callable[[bytes, Sequence[str], str], object]) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.base_url = base_url
        self.emit = emit
        self.call_at = call_at
        self.route_inbound = route_inbound
        self._sends: dict[str, list[float]] = {}  # rate-limit rule id -> times of the sends it counted
        self._envelopes_cleared: dict[str, float] = {}  # domain -> when its undelivered mail was deleted

    def send(self, req: sending.SendRequest) -> dict[str, str]:
        """Accept a parsed send: answers ``{"id", "message": "Queued. Thank you."}``.

        :raises BadRequest: when the message cannot be built.
        :raises RuleRejection: when a ``reject`` rule matches a recipient (nothing is kept).
        """
        now = self.clock.now()
        mid = req.mime_message_id or build.message_id(req.domain, now, new_hex_id(8))
        messages = build.build_messages(req, mid, now=now)
        rules = self.store.rules()
        planned: list[tuple[build.OutgoingMessage, ParsedMessage, list[tuple[str, DeliveryPlan]]]] = []
        for outgoing in messages:
            parsed = ParsedMessage(outgoing.raw)
            plans = []
            for rcpt in outgoing.recipients:
                hit = self.store.suppression(req.domain, rcpt, req.tags)
                plan = plan_delivery(rules, recipient=rcpt, tags=req.tags, headers=parsed, suppression=hit,
                                     retry_schedule=self.config.retry_schedule, sending_domain=req.domain,
                                     test_domain=self.config.test_recipient_domain)
                if plan.reject is not None:
                    raise RuleRejection(*plan.reject)
                plans.append((rcpt, plan))
            planned.append((outgoing, parsed, plans))
        self._count_sends(req.domain, now, {p.rule_id: p.rate_limit for _, _, ps in planned for _, p in ps
                                            if p.rate_limit is not None and p.rule_id is not None})
        keys = []
        start = max(now, req.deliver_at or now)
        for outgoing, parsed, plans in planned:
            stored = StoredMessage(key=new_storage_key(), domain=req.domain.lower(), raw=outgoing.raw,
                                   recipients=outgoing.recipients, sender=req.sender, message_id=mid,
                                   stored_at=now, expires_at=now + self.config.retention)
            self.store.add_message(stored)
            keys.append(stored.key)
            storage = {"key": stored.key, "url": stored.storage_url(self.base_url())}
            block = event_bodies.event_message(parsed, list(outgoing.recipients))
            variables = {**req.user_variables, **user_variables(parsed)}
            opens, clicks = _tracking(req, parsed, self.store.resources.domains.tracking(req.domain))
            for rcpt, plan in plans:
                target = _Recipient(req.domain.lower(), rcpt, req.sender, mid, block, storage, req.tags, variables,
                                    outgoing.raw, _first_link(parsed), opens, clicks, req.test_mode, now,
                                    req.sending_ip or "127.0.0.1")
                self.emit(target.domain, event_bodies.sent_event(
                    "accepted", new_event_id(), now, recipient=rcpt, sender=req.sender, message=block,
                    storage=storage, tags=req.tags, user_variables=variables, test_mode=req.test_mode,
                    method=req.method))
                # Test mode: Mailgun logs delivered with code 650 and sends nothing.
                self._schedule(target, DeliveryPlan((_TEST_MODE,)) if req.test_mode else plan, start)
        self.store.add_sent(SentMessage(
            message_id=mid, domain=req.domain.lower(), storage_keys=tuple(keys), recipients=req.recipients,
            sender=req.from_, subject=req.subject, tags=req.tags, test_mode=req.test_mode, sent_at=now,
            deliver_at=start))
        log.info("sent %s from %s to %d recipient(s)%s", printable(mid), printable(req.sender), len(req.recipients),
                 " (test mode)" if req.test_mode else "")
        return {"id": mid, "message": QUEUED}

    def engage(self, sent: SentMessage, stored: StoredMessage, recipient: str, kind: str,
               engagement: dict[str, str] | None = None) -> None:
        """Emit one engagement event (``opened``, ``clicked``, ``unsubscribed``, ``complained``) for a
        recipient of a sent message now, down the path a rule's step takes: the event, the domain
        webhooks it fires, and the suppression it adds.

        :param engagement: the event's ``country`` and ``device`` (see :func:`event_bodies.sent_event`).

        :raises BadRequest: for another kind of event.
        """
        step = engagement_step(kind)
        parsed = ParsedMessage(stored.raw)
        storage = {"key": stored.key, "url": stored.storage_url(self.base_url())}
        target = _Recipient(sent.domain, recipient, stored.sender, sent.message_id,
                            event_bodies.event_message(parsed, list(stored.recipients)), storage, sent.tags,
                            user_variables(parsed), stored.raw, _first_link(parsed), True, True)
        self._run_step(target, step, 0, self.clock.now(), engagement)

    def _count_sends(self, domain: str, now: float, limits: dict[str, tuple[int, float]]) -> None:
        """Count a send against each rate-limit rule it matched; past a rule's limit in its window, refuse
        it with Mailgun's 429, ``Retry-After`` and ``X-RateLimit-Reset`` (milliseconds)."""
        for rule_id, (limit, window) in limits.items():
            recent = [t for t in self._sends.get(rule_id, []) if t > now - window]
            if len(recent) >= limit:
                reset = recent[0] + window
                until = formatdate(reset, usegmt=True)
                raise RuleRejection(429, f"Domain {domain} is not allowed to send: request limit exceeded, try again "
                                         f"after {until}", {"Retry-After": str(max(1, math.ceil(reset - now))),
                                                            "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                                                            "X-RateLimit-Reset": str(int(reset * 1000))})
            self._sends[rule_id] = [*recent, now]

    def clear(self) -> None:
        """Forget rate-limit counts and deleted envelopes (on reset, with the clock back to real time)."""
        self._sends.clear()
        self._envelopes_cleared.clear()

    def clear_envelopes(self, domain: str) -> None:
        """``DELETE /v3/<domain>/envelopes``: drop the domain's scheduled and undelivered mail: every step
        still to come of a message accepted until now."""
        self._envelopes_cleared[domain.lower()] = self.clock.now()

    def _schedule(self, target: _Recipient, plan: DeliveryPlan, start: float) -> None:
        attempt = 0
        for step in plan.steps:
            if step.kind == "opened" and not target.opens_tracked or step.kind == "clicked" and not target.clicks_tracked:
                continue  # without Mailgun's pixel or rewritten links, nothing could be recorded
            if step.kind in ("delivered", "failed"):
                attempt += 1
            when = start + step.after
            self.call_at(when, _bind(self._run_step, target, step, attempt, when), f"{step.kind} {target.recipient}")

    def _run_step(self, target: _Recipient, step: Step, attempt: int, when: float,
                  engagement: dict[str, str] | None = None) -> None:
        # Stamped with the time the step was due, not when it ran: after a clock jump the
        # events still read as they would have happened.
        now = when
        cleared = self._envelopes_cleared.get(target.domain, -math.inf)
        if target.accepted_at <= cleared < when:
            return  # its envelope was deleted before this step fell due
        status: dict[str, Any] | None = None
        if step.kind in ("delivered", "failed"):
            status = {"attempt-no": attempt, "code": step.code,
                      "description": "" if step.kind == "delivered" else step.description,
                      "message": "OK" if step.kind == "delivered" else step.description,
                      "session-seconds": 0.1, "tls": True, "utf8": True, "certificate-verified": True,
                      "mx-host": f"mx.{target.recipient.rpartition('@')[2]}"}
            if step.severity == "temporary":
                status["retry-seconds"] = int(self.config.retry_schedule[min(attempt - 1, len(self.config.retry_schedule) - 1)]) \
                    if self.config.retry_schedule else 0
        event = event_bodies.sent_event(
            step.kind, new_event_id(), now, recipient=target.recipient, sender=target.sender, message=target.message,
            storage=target.storage, tags=target.tags, user_variables=target.user_variables, test_mode=target.test_mode,
            status=status, severity=step.severity, reason=step.reason, url=target.click_url,
            sending_ip=target.sending_ip, engagement=engagement or dict(step.engagement))
        self.emit(target.domain, event)
        if step.suppress is not None:
            kind = step.suppress
            tag = "*" if kind == "unsubscribes" else None
            self.store.add_suppression(kind, target.domain, target.recipient, code=step.code or 550,
                                       error=step.description, created_at=now, tag=tag)
        if step.kind == "delivered" and not target.test_mode and self._receives(target):
            self._loopback(target)

    def _receives(self, target: _Recipient) -> bool:
        """Whether the mock is the MX of the recipient's domain."""
        domain = domain_of(target.recipient).lower()
        return domain in self.config.domains if self.config.domains else domain == target.domain

    def _loopback(self, target: _Recipient) -> None:
        if not self.store.routes():
            return
        try:
            self.route_inbound(target.raw, [target.recipient], target.sender)
        except BadRequest as exc:
            log.info("loopback of %s to %s not routed: %s", printable(target.message_id), printable(target.recipient),
                     printable(exc.message))


def _bind(run: Callable[[_Recipient, Step, int, float], None], target: _Recipient, step: Step, attempt: int,
          when: float) -> Callable[[], None]:
    return lambda: run(target, step, attempt, when)


def _tracking(req: sending.SendRequest, parsed: ParsedMessage, tracking: dict[str, Any]) -> tuple[bool, bool]:
    """Whether opens and clicks can be recorded: as the domain's tracking settings say, unless the
    message's ``o:tracking``/``-opens``/``-clicks`` say otherwise; clicks with ``htmlonly`` only
    when there is HTML."""
    opened = tracking.get("open", {}).get("active", True)
    clicked = tracking.get("click", {}).get("active", True)
    if req.tracking is not None:
        opened = clicked = req.tracking
    opens = req.tracking_opens if req.tracking_opens is not None else bool(opened)
    mode = req.tracking_clicks or {True: "yes", False: "no"}.get(clicked, str(clicked))
    clicks = mode != "no" and not (mode == "htmlonly" and not parsed.body_html)
    return opens, clicks


def user_variables(parsed: ParsedMessage) -> dict[str, Any]:
    """``user-variables`` from the message's ``X-Mailgun-Variables`` headers (several are merged)."""
    merged: dict[str, Any] = {}
    for value in parsed.header_values("X-Mailgun-Variables"):
        try:
            data = json.loads(value)
        except ValueError:
            continue
        if isinstance(data, dict):
            merged.update(data)
    return merged


def _first_link(parsed: ParsedMessage) -> str:
    """The URL a ``clicked`` event reports: the first http(s) link in the HTML, else a placeholder."""
    html = parsed.body_html
    for marker in ('href="http', "href='http"):
        start = html.find(marker)
        if start != -1:
            start += len('href="')
            end = min((i for i in (html.find('"', start), html.find("'", start)) if i != -1), default=len(html))
            return html[start:end]
    return "https://example.com/"
