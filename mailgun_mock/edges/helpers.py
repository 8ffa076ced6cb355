"""What a test asks of the mock in Python: inject mail, read what happened, wait for it, assert on it.

:class:`MockHelpers` is the part of :class:`~.server.MailgunMock` that works on its backend alone;
the server part (binding, threads, URLs) is in :mod:`.server`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from email.message import EmailMessage, Message
from email.policy import SMTP
from typing import TYPE_CHECKING, Any

from ..backend.core import Backend
from ..backend.inbox import Mail
from ..backend.inbox_index import Filters
from ..base.errors import RequestTimeout
from ..base.records import DeliveryAttempt
from ..delivery.wsgi_transport import RoutingTransport, WsgiApp

if TYPE_CHECKING:
    from ..delivery.probe import ProbeReport

__all__ = ["DELIVERY_FIELDS", "EVENT_FIELDS", "MockHelpers", "OUTBOX_FIELDS", "ServerError"]


class ServerError(AssertionError):
    """An error raised while the server thread handled a request (a bug in the mock)."""


class MockHelpers:
    """Test helpers over :attr:`backend` (the :class:`~mailgun_mock.backend.core.core.Backend` a mock serves)."""

    backend: Backend

    def reset(self) -> None:
        """Forget all state (routes, clock offset…) and any recorded server errors."""
        self.backend.reset()
        self.backend.errors.clear()

    def advance_clock(self, seconds: float) -> float:
        """Move the mock's clock forward and run every webhook retry that fell due; answers the new time."""
        return self.backend.advance_clock(seconds)

    def inject(self, message: bytes | str | EmailMessage | Message | None = None, *,
               recipients: Sequence[str] | None = None, sender: str | None = None, wait: bool = True,
               **fields: Any) -> dict[str, Any]:
        """Deliver one inbound message to the routes, as ``POST /mock/inbound`` does.

        ::

            mock.inject(raw_bytes)
            mock.inject(email_message, recipients=["support@example.com"])
            mock.inject(from_="Bob <bob@example.net>", to=["support@example.com"], subject="Hi", text="Hello")

        :param message: the raw message, or an ``email.message`` object; omit it to build one from
            ``fields`` (``from_``, ``to``, ``cc``, ``bcc``, ``subject``, ``text``, ``html``,
            ``attachments`` and ``inline`` as ``(filename, bytes, content_type)``, ``headers``).
        :param recipients: the envelope recipients (default: To, Cc and Bcc).
        :param sender: the envelope sender (default: the From address).
        :param wait: return only after the first attempt of every webhook it caused.
        :returns: the inject answer (message id; per recipient the routes, actions and storage).
        """
        if message is None:
            if "headers" in fields:
                fields["headers"] = _header_pairs(fields["headers"])
            message, envelope = self.backend.compose_message(**fields)
            recipients = recipients or envelope
        elif fields:
            raise TypeError("give either a message or fields to build one, not both")
        if isinstance(message, Message):
            message = message.as_bytes(policy=SMTP)
        elif isinstance(message, str):
            message = message.encode("utf-8")
        answer = self.backend.receive_inbound(message, recipients, sender)
        if wait:
            self.backend.wait_for_first_attempts(answer)
        return answer

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery attempt so far, oldest first (as ``GET /mock/deliveries``)."""
        return [a.to_json() for a in self.backend.list_deliveries()]

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event of every domain, oldest first."""
        return self.backend.store.all_events()

    def stored_message(self, url_or_key: str) -> dict[str, Any]:
        """A stored message's JSON, by its storage URL or key (as ``GET`` on the URL answers it)."""
        key = url_or_key.rstrip("/").rpartition("/")[2]
        message = self.backend.store.get_message(key, self.backend.clock.now())
        if message is None:
            raise KeyError(f"no stored message {key!r}")
        return self.backend.stored_message_json(message.domain, key)

    def create_route(self, expression: str, *actions: str, priority: int = 0, description: str = "") -> dict[str, Any]:
        """Create a route, as ``POST /v3/routes`` does; answers it in Mailgun's JSON shape.

        ::

            mock.create_route('match_recipient("support@.*")', 'forward("http://127.0.0.1:5000/in")', "stop()")
        """
        return self.backend.create_route(expression, list(actions), priority, description).to_json()

    def wait_for_deliveries(self, count: int = 1, *, timeout: float = 10.0, **match: Any) -> list[dict[str, Any]]:
        """Wait until at least ``count`` webhook attempts match, and answer them (no sleeping in tests).

        ::

            mock.wait_for_deliveries(2, url="http://127.0.0.1:5000/in", outcome="delivered")

        :param match: attempt fields that must be equal (``url``, ``recipient``, ``kind``, ``outcome``,
            ``status``, ``attempt``…), as ``GET /mock/deliveries`` lists them.
        :raises AssertionError: after ``timeout`` seconds, listing the attempts that came closest.
        """
        _check_keywords("wait_for_deliveries", match, DELIVERY_FIELDS)
        found: list[dict[str, Any]] = []

        def enough() -> bool:
            found[:] = [a for a in self.deliveries if all(a.get(k) == v for k, v in match.items())]
            return len(found) >= count

        if self.backend.delivery.wait_until(enough, timeout):
            return found
        raise AssertionError(_near_misses(count, match, self.deliveries, timeout))

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until everything due on the mock's clock has run: scheduled deliveries of sent
        mail, their events, and webhook attempts (``advance_clock`` settles by itself).

        :raises AssertionError: if work is still running after ``timeout`` seconds.
        """
        if not self.backend.delivery.run_due(timeout):
            raise AssertionError(f"the mock still had due work after {timeout:g} s")

    def wait_for_events(self, count: int = 1, *, timeout: float = 10.0, **match: Any) -> list[dict[str, Any]]:
        """Wait until at least ``count`` events match (``event="delivered", recipient=…``), and answer them.

        :raises AssertionError: after ``timeout`` seconds, listing the events seen.
        """
        _check_keywords("wait_for_events", match, EVENT_FIELDS)
        found: list[dict[str, Any]] = []

        def enough() -> bool:
            found[:] = [e for e in self.events if all(e.get(k) == v for k, v in match.items())]
            return len(found) >= count

        if self.backend.delivery.wait_until(enough, timeout):
            return found
        seen = ", ".join(f"{e['event']} {e.get('recipient', '')}".strip() for e in self.events[-10:]) or "none"
        wanted = ", ".join(f"{k}={v!r}" for k, v in match.items()) or "any event"
        raise AssertionError(f"waited {timeout:g} s for {count} event(s) with {wanted}; {len(found)} matched; "
                             f"latest events: {seen}")

    def wait_for_mail(self, *, to: str = "", from_: str = "", subject: str = "", q: str = "", direction: str = "",
                      tag: str = "", timeout: float = 10.0, pattern: str | None = None) -> Mail:
        """Wait for a sent or received message that matches, and answer the newest, as ``GET /mock/messages``
        lists it, with ``.links`` and ``.code`` (no sleeping in tests)::

            mail = mock.wait_for_mail(to="bob@example.com", subject="Confirm your address")
            client.get(mail.links[0]); assert mail.code == "123456"

        :param to: part of a recipient address (or of the To/Cc headers), any case; ``from_``,
            ``subject`` likewise; ``q`` words found anywhere (addresses, subject, text).
        :param direction: ``sent`` or ``received``.
        :param pattern: a regular expression replacing the one-time code finder.
        :raises AssertionError: after ``timeout`` seconds without a match, naming the filters.
        """
        filters = Filters(to=to, from_=from_, subject=subject, q=q, direction=direction, tag=tag)
        try:
            return self.backend.wait_for_mail(filters, timeout, pattern)
        except RequestTimeout as exc:
            raise AssertionError(exc.message) from None

    @property
    def outbox(self) -> list[dict[str, Any]]:
        """Every message sent through the API (``/messages``, ``messages.mime``, resends), oldest
        first, rendered: id, from, to, cc, recipients, subject, text, html, tags, attachments, headers."""
        return self.backend.sent_messages()

    def assert_sent(self, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        """Assert that ``count`` sent messages match and answer them; the failure lists near misses.

        ::

            (welcome,) = mock.assert_sent(to="bob@example.net", subject="Welcome")

        :param match: ``to`` (an envelope recipient), ``tag`` (one of the tags), ``text``/``html``
            (a substring), or any outbox field compared for equality (``subject``, ``from``…).
        """
        _check_keywords("assert_sent", match, OUTBOX_FIELDS)

        def fits(message: dict[str, Any], key: str, value: Any) -> bool:
            if key == "to":
                return str(value).lower() in (r.lower() for r in message["recipients"])
            if key == "tag":
                return value in message["tags"]
            if key in ("text", "html"):
                return str(value) in message[key]
            return bool(message.get(key) == value)

        outbox = self.outbox
        hits = [m for m in outbox if all(fits(m, k, v) for k, v in match.items())]
        if len(hits) == count:
            return hits
        lines = [f"expected {count} sent message(s) with "
                 f"{', '.join(f'{k}={v!r}' for k, v in match.items()) or 'anything'}; found {len(hits)} "
                 f"among {len(outbox)} sent"]
        for message in sorted(outbox, key=lambda m: -sum(fits(m, k, v) for k, v in match.items()))[:5]:
            differs = ", ".join(k for k, v in match.items() if not fits(message, k, v)) or "nothing"
            lines.append(f"  {message['id']} to {', '.join(message['recipients'])} subject {message['subject']!r} "
                         f"(differs: {differs})")
        raise AssertionError("\n".join(lines))

    def probe_webhook(self, url: str, kind: str = "forward", *, check: bool = True, **options: Any) -> ProbeReport:
        """Send the app's webhook receiver one valid webhook of ``kind`` and forged ones, as
        ``POST /mock/webhook-probe`` does (see :mod:`mailgun_mock.delivery.probe`).

        ::

            mock.probe_webhook("http://127.0.0.1:8000/hooks/mailgun")             # a forward() receiver
            mock.probe_webhook("http://127.0.0.1:8000/hooks/events", "webhook")   # event webhooks

        :param kind: ``forward``, ``notify``, ``webhook`` or ``webhook:<name>``.
        :param check: raise when the receiver got something wrong (else just answer the report).
        :param options: ``recipient`` (of the probes' message), ``oversize`` (bytes of the oversized probe).
        :raises AssertionError: with ``check``, carrying the verdict table, when the receiver accepted a
            forgery or refused the valid webhook.
        """
        report = self.backend.probe_webhook(url, kind, **options)
        if check and not report.passed:
            raise AssertionError(report.table())
        return report

    def wsgi_targets(self, targets: Mapping[str, WsgiApp]) -> None:
        """Deliver webhooks whose URL starts with one of these bases straight into that WSGI app.

        ::

            mock.wsgi_targets({"http://app.test": flask_app})   # or Django's get_wsgi_application()
            mock.create_route("catch_all()", 'forward("http://app.test/inbound")')

        Other URLs go over HTTP as before; ``{}`` removes the targets. With ``deliver="inline"`` the
        application's view runs in the caller's thread (and a Django test's transaction).
        """
        posts = self.backend.posts  # routed inside the record the web inbox keeps of what was posted
        fallback = posts.inner.fallback if isinstance(posts.inner, RoutingTransport) else posts.inner
        posts.inner = RoutingTransport(fallback, targets) if targets else fallback

    def raise_errors(self) -> None:
        """Re-raise, in the caller's thread, the first error a request hit on the server thread.

        :raises ServerError: chained to the original exception.
        """
        errors = self.backend.errors
        if errors:
            first = errors[0]
            errors.clear()
            raise ServerError(f"the mock server hit an internal error: {first!r}") from first


#: What ``wait_for_deliveries`` can match on: the fields of ``GET /mock/deliveries`` items.
DELIVERY_FIELDS = tuple(sorted(f.name for f in dataclasses.fields(DeliveryAttempt)))
#: What ``wait_for_events`` can match on: the top-level fields of Mailgun's events that are Python names.
EVENT_FIELDS = ("campaigns", "envelope", "event", "flags", "geolocation", "id", "ip", "message", "method", "reason",
                "recipient", "routes", "severity", "storage", "tags", "timestamp", "url")
#: What ``assert_sent`` can match on: the outbox fields, plus ``to`` and ``tag`` (membership).
OUTBOX_FIELDS = ("attachments", "cc", "deliver_at", "domain", "from", "headers", "html", "id", "recipients",
                 "sent_at", "storage_url", "subject", "tag", "tags", "test_mode", "text", "to")


def _check_keywords(helper: str, given: dict[str, Any], valid: tuple[str, ...]) -> None:
    """:raises TypeError: for a keyword the helper cannot match on, naming the valid ones."""
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise TypeError(f"{helper}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                        f"it matches on {', '.join(valid)}")


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    """``inject``'s ``headers``: a mapping or a sequence of ``(name, value)`` pairs, as pairs.

    :raises TypeError: naming the parameter and the accepted types for anything else.
    """
    items = list(headers.items()) if isinstance(headers, Mapping) else headers
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        items = None
    else:
        items = list(items)
    if items is None or not all(isinstance(i, (tuple, list)) and len(i) == 2 and all(isinstance(p, str) for p in i)
                                for i in items):
        raise TypeError("inject(headers=...) takes a mapping of header names to values, or a list of "
                        f"(name, value) string pairs; got {type(headers).__name__}")
    return [(name, value) for name, value in items]


def _near_misses(count: int, match: dict[str, Any], attempts: list[dict[str, Any]], timeout: float) -> str:
    """The failure message of :meth:`MailgunMock.wait_for_deliveries`: what was wanted, what came closest."""
    wanted = ", ".join(f"{k}={v!r}" for k, v in match.items()) or "any attempt"
    hits = [a for a in attempts if all(a.get(k) == v for k, v in match.items())]
    lines = [f"waited {timeout:g} s for {count} webhook attempt(s) with {wanted}; {len(hits)} matched"]
    scored = sorted(attempts, key=lambda a: -sum(a.get(k) == v for k, v in match.items()))
    near = [a for a in scored if a not in hits][:5]
    if not attempts:
        lines.append("no webhook was attempted at all (does a route match, and does its action forward or notify?)")
    for a in near:
        diff = ", ".join(f"{k}={a.get(k)!r}" for k, v in match.items() if a.get(k) != v)
        lines.append(f"  near miss: {a['kind']} {a['url']} attempt {a['attempt']} -> "
                     f"{a['status'] if a['status'] is not None else a['error']} (differs: {diff})")
    return "\n".join(lines)
