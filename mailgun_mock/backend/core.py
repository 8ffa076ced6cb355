"""The Mailgun operations, named after them (``create_route``, ``list_routes``…), with no Flask.

Every validation message Mailgun answers lives here, so the Flask test client, the threaded
server and direct Python calls behave the same.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..base.ids import new_hex_id
from ..wire import payloads
from ..inbound.run import ActionRunner
from ..base.clock import Clock
from ..base.config import Config
from ..delivery.worker import DeliveryWorker, Transport
from ..lang.event_query import EventQuery, parse_event_query
from ..base.errors import BadRequest, ExpressionError, NotFound, PayloadTooLarge
from ..lang.filters import MatchContext, parse_filter
from ..lang.actions import parse_action
from ..base.ids import ObjectIds
from ..base.logtext import printable
from ..mail.compose import build_message
from ..mail.parse import ParsedMessage
from ..base.records import DeliveryAttempt, Route, StoredMessage
from ..inbound.plan import plan_recipient
from ..sending.outbox import Outbound
from .sending import SendingOperations
from ..state.store import Store
from ..delivery.domain_webhooks import DomainWebhooks

__all__ = ["Backend", "FIELD_LIMIT", "ROUTES_LIMIT_MAX"]

log = logging.getLogger("mailgun_mock")

# Mailgun: "The Filter field and the Action field may each be at most 4k characters".
FIELD_LIMIT = 4096
ROUTES_LIMIT_MAX = 1000
ROUTES_LIMIT_DEFAULT = 100
_DOMAIN = re.compile(r"[\w-]+(\.[\w-]+)*\.?")  # a host name (IDN letters allowed), as in envelope addresses
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")  # ASCII digits only; longer is out of range anyway
# An envelope address: a local part without spaces, controls or address punctuation, and a domain
# of (Unicode) letters, digits, hyphens and dots.
_ADDRESS = re.compile(r'[^\s@<>()\[\],;"\\\x00-\x1f\x7f-\x9f]+@[\w-]+(\.[\w-]+)*\.?')
_INT64 = 2**63


def _integer(value: str | int | None, name: str, default: int) -> int:
    """Read an integer parameter given as text (from a form or query) or as an int."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise BadRequest(f"The '{name}' parameter must be an integer")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not _INTEGER.fullmatch(text):
            raise BadRequest(f"The '{name}' parameter must be an integer, got {_quote(text)}")
        number = int(text)
    if not -_INT64 <= number < _INT64:
        raise BadRequest(f"The '{name}' parameter is out of range")
    return number


def _quote(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _field(value: str, name: str) -> str:
    if len(value) > FIELD_LIMIT:
        raise BadRequest(f"The '{name}' parameter is too long: {len(value)} characters, at most {FIELD_LIMIT}")
    return value


class Backend(SendingOperations):
    """The mock's Mailgun: every operation an API handler or a Python caller can ask for.

    :param config: the configuration.
    :param clock: the mock's clock (real time unless advanced).
    :param ids: the route id generator (a seam for deterministic ids).
    :param store: where state lives.
    :param transport: how webhooks are POSTed (a seam; real HTTP by default).
    """

    def __init__(
        self,
        config: Config | None = None,
        clock: Clock | None = None,
        ids: ObjectIds | None = None,
        store: Store | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.config = config or Config()
        self.clock = clock or Clock()
        self.ids = ids or ObjectIds()
        self.store = store or Store(self.config.max_stored_messages, self.config.max_events)
        #: The server's own URL, set by the server once bound; storage URLs are built on it.
        self.server_url = ""
        self.router = ActionRunner(self.config, self.clock, self.store, lambda: self.base_url)
        self.delivery = DeliveryWorker(
            self.clock, self.config.signing_key, self.config.retry_schedule, self.config.delivery_timeout,
            on_attempt=self.router.record_attempt, transport=transport,
        )
        self.router.submit = self.delivery.submit
        self.webhooks = DomainWebhooks(self.store, self.delivery.submit)
        self.router.emit = self.emit
        self.outbound = Outbound(self.config, self.clock, self.store, lambda: self.base_url, self.emit,
                                 self.delivery.call_at, self.receive_inbound)
        #: unexpected exceptions (bugs) raised while serving requests or delivering webhooks.
        self.errors: list[BaseException] = self.delivery.errors

    @property
    def base_url(self) -> str:
        """Where clients reach the mock: ``public_url`` if configured, else the server's URL."""
        return self.config.public_url or self.server_url or "http://localhost"

    # -- routes ---------------------------------------------------------------------------

    @staticmethod
    def _validate_expression(expression: str) -> str:
        _field(expression, "expression")
        try:
            parse_filter(expression)
        except ExpressionError as exc:
            raise BadRequest(f"Invalid expression: {exc.message}") from None
        return expression

    @staticmethod
    def _validate_actions(actions: Sequence[str]) -> tuple[str, ...]:
        for number, action in enumerate(actions, 1):
            _field(action, "action")
            try:
                parse_action(action)
            except ExpressionError as exc:
                where = f" #{number}" if len(actions) > 1 else ""
                raise BadRequest(f"Invalid action{where}: {exc.message}") from None
        return tuple(actions)

    def create_route(
        self,
        expression: str | None,
        actions: Sequence[str],
        priority: str | int | None = None,
        description: str | None = None,
    ) -> Route:
        """``POST /v3/routes``: validate and keep a new route.

        :param expression: the filter, e.g. ``match_recipient(".*@example.com")``.
        :param actions: one or more actions, e.g. ``['forward("https://app/hook")', 'stop()']``.
        :raises BadRequest: with Mailgun's message for a missing field, or what is wrong.
        """
        if expression is None or not expression.strip():
            raise BadRequest("Expression is missing")
        if not actions:
            raise BadRequest("'action' parameter is missing")
        now = self.clock.now()
        route = Route(
            id=self.ids.new(now),
            priority=_integer(priority, "priority", 0),
            description=description or "",
            expression=self._validate_expression(expression),
            actions=self._validate_actions(actions),
            created_at=now,
        )
        route = self.store.add_route(route)
        log.info("route %s created: %s", route.id, printable(route.expression))
        return route

    def get_route(self, route_id: str) -> Route:
        """``GET /v3/routes/<id>``.

        :raises NotFound: ``Route not found``.
        """
        route = self.store.get_route(route_id)
        if route is None:
            raise NotFound("Route not found")
        return route

    def list_routes(self, skip: str | int | None = None, limit: str | int | None = None) -> tuple[list[Route], int]:
        """``GET /v3/routes``: one page of routes in evaluation order, and the total count."""
        skip_n = _integer(skip, "skip", 0)
        limit_n = _integer(limit, "limit", ROUTES_LIMIT_DEFAULT)
        if skip_n < 0:
            raise BadRequest("The 'skip' parameter can't be negative")
        if limit_n > ROUTES_LIMIT_MAX:
            raise BadRequest(f"The 'limit' parameter can't be larger than {ROUTES_LIMIT_MAX}")
        if limit_n < 1:
            raise BadRequest("The 'limit' parameter must be at least 1")
        routes = self.store.routes()
        return routes[skip_n : skip_n + limit_n], len(routes)

    def update_route(
        self,
        route_id: str,
        expression: str | None = None,
        actions: Sequence[str] | None = None,
        priority: str | int | None = None,
        description: str | None = None,
    ) -> Route:
        """``PUT /v3/routes/<id>``: change only the fields given; ``actions`` replaces the list.

        :raises NotFound: ``Route not found``.
        """
        route = self.get_route(route_id)
        changes: dict[str, object] = {}
        if expression is not None:
            if not expression.strip():
                raise BadRequest("Expression is missing")
            changes["expression"] = self._validate_expression(expression)
        if actions is not None:
            if not actions:
                raise BadRequest("'action' parameter is missing")
            changes["actions"] = self._validate_actions(actions)
        if priority is not None:
            changes["priority"] = _integer(priority, "priority", route.priority)
        if description is not None:
            changes["description"] = description
        route = dataclasses.replace(route, **changes)  # type: ignore[arg-type]
        self.store.replace_route(route)
        return route

    def delete_route(self, route_id: str) -> Route:
        """``DELETE /v3/routes/<id>``.

        :raises NotFound: ``Route not found``.
        """
        route = self.store.delete_route(route_id)
        if route is None:
            raise NotFound("Route not found")
        return route

    def match_route(self, address: str | None) -> Route:
        """``GET /v3/routes/match?address=``: the first route, in evaluation order, that an
        inbound message to ``address`` would trigger.

        Only the address is known, so ``match_header`` filters see no headers.

        :raises NotFound: ``Route not found`` when none matches.
        """
        if address is None or not address.strip():
            raise BadRequest("'address' parameter is missing")
        ctx = MatchContext(address.strip(), timeout=self.config.regex_timeout)
        for route in self.store.routes():
            if parse_filter(route.expression).evaluate(ctx).matched:
                return route
        raise NotFound("Route not found")

    # -- inbound mail ---------------------------------------------------------------------

    def receive_inbound(self, raw: bytes, recipients: Sequence[str] | None = None,
                        sender: str | None = None) -> dict[str, Any]:
        """Run one inbound message through the routes, as Mailgun does on receiving it.

        :param raw: the RFC 5322 message.
        :param recipients: the envelope recipients (default: To, Cc and Bcc).
        :param sender: the envelope sender (default: the From address).
        :returns: the inject answer: message id and, per recipient, routes, actions, storage.
        :raises PayloadTooLarge: over ``max_message_size``; nothing is kept.
        :raises BadRequest: empty message or no recipient.
        """
        if len(raw) > self.config.max_message_size:
            raise PayloadTooLarge(
                f"message size {len(raw)} bytes exceeds the {self.config.max_message_size} bytes limit")
        if not raw.strip():
            raise BadRequest("the message is empty")
        msg = ParsedMessage(raw)
        if len(msg.headers) > self.config.max_headers:
            raise BadRequest(f"the message has {len(msg.headers)} header lines, more than the "
                             f"{self.config.max_headers} allowed")
        rcpts = _clean_addresses(recipients) if recipients else msg.addresses("To", "Cc", "Bcc")
        if not rcpts:
            raise BadRequest("no recipient: the message has no To, Cc or Bcc address and none was given")
        for rcpt in rcpts:
            if not _ADDRESS.fullmatch(rcpt):
                raise BadRequest(f"recipient {rcpt[:100]!r} is not an email address")
            host = rcpt.rpartition("@")[2]
            if not self.config.serves(host):
                raise BadRequest(f"Domain not found: {host} (the mock serves {', '.join(self.config.domains)})")
        envelope_sender = sender.strip() if sender is not None else next(iter(msg.addresses("From")), "")
        message_id = msg.message_id.strip() or f"<{new_hex_id(12)}@mailgun-mock.invalid>"
        routes = self.store.routes()
        answer = [self.router.run(msg, plan_recipient(routes, rcpt, msg, self.config.regex_timeout),
                                  envelope_sender, message_id) for rcpt in rcpts]
        return {"id": message_id, "message": "Message received", "recipients": answer}

    def compose_message(self, *, from_: str | None, to: Sequence[str] = (), cc: Sequence[str] = (),
                        bcc: Sequence[str] = (), subject: str = "", text: str | None = None,
                        html: str | None = None, attachments: Sequence[tuple[str, bytes, str]] = (),
                        inline: Sequence[tuple[str, bytes, str]] = (), headers: Sequence[tuple[str, str]] = (),
                        recipients_given: bool = False) -> tuple[bytes, list[str]]:
        """Build a message from Mailgun-style send fields; answers it and its envelope recipients
        (To, Cc and Bcc: Bcc never shows in the headers but belongs in the envelope).

        :raises BadRequest: without ``from``, or without any recipient.
        """
        if not from_:
            raise BadRequest("'from' parameter is missing")
        if not (to or cc or bcc or recipients_given):
            raise BadRequest("'to' parameter is missing")
        try:
            raw = build_message(from_=from_, to=list(to), cc=list(cc), subject=subject, text=text, html=html,
                                attachments=list(attachments), inline=list(inline), headers=list(headers))
        except ValueError as exc:  # e.g. an address header or a header name that cannot be written
            raise BadRequest(str(exc)) from None
        return raw, [*to, *cc, *bcc]

    def wait_for_first_attempts(self, answer: Mapping[str, Any], timeout: float = 30.0) -> None:
        """Block until every webhook an inject answer lists has had its first attempt."""
        ids = {a["delivery"] for r in answer["recipients"] for a in r["actions"] if "delivery" in a}
        self.delivery.wait_first_attempts(ids, timeout)

    def list_deliveries(self) -> list[DeliveryAttempt]:
        """``GET /mock/deliveries``: every webhook attempt, oldest first."""
        return self.store.attempts()

    def emit(self, domain: str, event: dict[str, Any]) -> None:
        """Record an event and POST it to the domain's webhooks registered for its type."""
        self.store.add_event(domain, event)
        self.webhooks.dispatch(domain, event)

    def check_domain(self, domain: str) -> None:
        """:raises NotFound: ``Domain not found: <domain>`` for a name that is not a domain, or one
            outside ``--domain`` when that restricts."""
        if not _DOMAIN.fullmatch(domain) or not self.config.serves(domain):
            raise NotFound(f"Domain not found: {printable(domain, 100)}")

    # -- domain webhooks ------------------------------------------------------------------

    def list_webhooks(self, domain: str) -> dict[str, Any]:
        """``GET /v3/domains/<domain>/webhooks``."""
        self.check_domain(domain)
        return self.webhooks.all(domain)

    def get_webhook(self, domain: str, name: str) -> dict[str, Any]:
        """``GET /v3/domains/<domain>/webhooks/<name>``."""
        self.check_domain(domain)
        return self.webhooks.get(domain, name)

    def create_webhook(self, domain: str, name: str | None, urls: Sequence[str]) -> dict[str, Any]:
        """``POST /v3/domains/<domain>/webhooks`` (``id`` and up to 3 ``url``)."""
        self.check_domain(domain)
        return self.webhooks.create(domain, name, urls)

    def update_webhook(self, domain: str, name: str, urls: Sequence[str]) -> dict[str, Any]:
        """``PUT /v3/domains/<domain>/webhooks/<name>``."""
        self.check_domain(domain)
        return self.webhooks.update(domain, name, urls)

    def delete_webhook(self, domain: str, name: str) -> dict[str, Any]:
        """``DELETE /v3/domains/<domain>/webhooks/<name>``."""
        self.check_domain(domain)
        return self.webhooks.delete(domain, name)

    # -- stored messages ------------------------------------------------------------------

    def get_stored_message(self, domain: str, key: str) -> StoredMessage:
        """The stored message, unless unknown, deleted or past retention.

        :raises NotFound: ``Message not found``.
        """
        self.check_domain(domain)
        message = self.store.get_message(key, self.clock.now())
        if message is None or message.domain != domain.lower():
            raise NotFound("Message not found")
        return message

    def stored_message_json(self, domain: str, key: str, raw_mime: bool = False) -> dict[str, Any]:
        """``GET /v3/domains/<domain>/messages/<key>``: JSON, or JSON with ``body-mime``."""
        stored = self.get_stored_message(domain, key)
        msg = ParsedMessage(stored.raw)
        if raw_mime:
            return payloads.stored_mime_json(msg, stored.recipients, stored.sender)
        return payloads.stored_json(msg, stored.recipients, stored.sender, stored.storage_url(self.base_url))

    def get_attachment(self, domain: str, key: str, index: str) -> tuple[bytes, str, str]:
        """``GET …/attachments/<n>``: the bytes, content type and filename of attachment ``n`` (from 0).

        :raises NotFound: for an unknown message or an index out of range.
        """
        stored = self.get_stored_message(domain, key)
        attachments = ParsedMessage(stored.raw).attachments
        if not re.fullmatch(r"[0-9]{1,9}", index) or int(index) >= len(attachments):
            raise NotFound("Attachment not found")
        attachment = attachments[int(index)]
        return attachment.content, attachment.content_type, attachment.filename

    def delete_stored_message(self, domain: str, key: str) -> None:
        """``DELETE`` a stored message (documented by the store() announcement).

        :raises NotFound: ``Message not found``.
        """
        self.get_stored_message(domain, key)
        self.store.delete_message(key)

    # -- events ---------------------------------------------------------------------------

    def list_events(self, domain: str, params: Mapping[str, Any] | None, token: str | None = None) -> dict[str, Any]:
        """``GET /v3/<domain>/events[/<token>]``: one page with its four paging links."""
        self.check_domain(domain)
        now = self.clock.now()
        query: EventQuery | None = parse_event_query(params or {}, now) if token is None else None
        return self.store.events_response(domain, query, token, self.base_url, now)

    # -- the mock itself ------------------------------------------------------------------

    def advance_clock(self, seconds: Any) -> float:
        """Move the mock's clock forward and run every webhook attempt that fell due; answers the new time.

        :raises BadRequest: for an amount that is not a non-negative number of seconds, or that
            would take the clock past 9999-12-31.
        """
        try:
            now = self.clock.advance(float(seconds))
        except (TypeError, ValueError) as exc:
            detail = f" ({exc})" if "9999" in str(exc) else ""
            raise BadRequest(f"'advance' must be a non-negative number of seconds{detail}") from None
        self.delivery.run_due()
        self.store.expire_messages(self.clock.now())
        return now

    def reset(self) -> None:
        """Forget all state (routes, messages, events, deliveries, clock offset); keep the configuration."""
        self.delivery.clear()
        self.store.clear()
        self.clock.reset()
        log.info("state reset")

    def close(self) -> None:
        """Stop the delivery threads."""
        self.delivery.stop()


def _clean_addresses(values: Sequence[str]) -> list[str]:
    """Envelope recipients given as a list, each possibly comma-separated; deduplicated, order kept."""
    seen: dict[str, str] = {}
    for value in values:
        for part in value.split(","):
            address = part.strip().strip("<>").strip()
            if address and address.lower() not in seen:
                seen[address.lower()] = address
    return list(seen.values())
