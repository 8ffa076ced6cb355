"""All mutable state, in memory, behind one lock that only this module takes.

Public methods take the lock and hand back immutable records or fresh lists, so callers never
hold the lock while they do I/O.

Every change bumps :attr:`Store.version` and tells the listeners (:meth:`Store.add_listener`);
:meth:`Store.snapshot` and :meth:`Store.restore` turn the whole state into a JSON-ready dict and
back, which is what :mod:`mailgun_mock.state.snapshot` saves and loads.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..base.records import (
    DeliveryAttempt,
    ListKind,
    Route,
    SentMessage,
    StoredMessage,
    SuppressionHit,
    SuppressionRecord,
)
from ..lang.event_query import EventQuery
from ..lang.send_rules import Rule
from .children import Children
from .codec import decode_state
from .events import EventLog, events_response
from .mailbox import Mailbox
from .resources import Resources
from .send_state import SendState

__all__ = ["Listener", "Store"]

log = logging.getLogger("mailgun_mock")

Listener = Callable[[int], None]
"""Told the store's new :attr:`~Store.version` after each change, with the store's lock held."""


class Store:
    """The mock's memory: routes, stored messages, events (one log per domain), delivery attempts."""

    def __init__(self, max_messages: int | None = None, max_events: int | None = None) -> None:
        """:param max_messages: stored messages kept at most (the oldest go first); ``None``: no cap.
        :param max_events: events kept per domain at most (the oldest go first); ``None``: no cap.
        """
        self.max_messages = max_messages
        self.max_events = max_events
        #: how many messages and events the caps pushed out, since the last clear()
        self.evicted = {"messages": 0, "events": 0}
        self._lock = threading.RLock()
        self._routes: dict[str, Route] = {}
        self._ordered: list[Route] | None = []
        self._next_seq = 0
        self._messages: dict[str, StoredMessage] = {}
        self._events: dict[str, EventLog] = {}
        self._attempts: list[DeliveryAttempt] = []
        self._send = SendState()
        #: domains, templates, mailing lists, keys…: sections under this store's lock
        self.resources = Resources(self._lock, self._changed)
        #: the own stores of the account's subaccounts, saved in this store's snapshot
        self.children = Children(self._lock, self._changed)
        self._version = 0
        self._listeners: list[Listener] = []
        #: received mail, read marks and send options for the web inbox, under this store's lock
        self.mailbox = Mailbox(self._lock, self._changed, max_messages)

    # -- change tracking ------------------------------------------------------------------

    @property
    def version(self) -> int:
        """A counter that every change of state increases (reads never do)."""
        with self._lock:
            return self._version

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(version)`` after every change from now on.

        It runs on the changing thread with the store's lock held, so it must return at once:
        set an event or notify a condition, never do I/O. An exception it raises is logged
        and otherwise ignored (the change has happened).
        """
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener`` (no error if it was not listening)."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _changed(self) -> None:
        # Called with the lock held, at the end of every mutation.
        self._version += 1
        for listener in self._listeners:
            try:
                listener(self._version)
            except Exception:
                log.exception("a store listener failed")

    # -- routes ---------------------------------------------------------------------------

    def add_route(self, route: Route) -> Route:
        """Keep a new route; answers it with its insertion sequence number set."""
        with self._lock:
            route = dataclasses.replace(route, seq=self._next_seq)
            self._next_seq += 1
            self._routes[route.id] = route
            self._ordered = None
            self._changed()
            return route

    def replace_route(self, route: Route) -> None:
        """Store an updated route under its id."""
        with self._lock:
            self._routes[route.id] = route
            self._ordered = None
            self._changed()

    def get_route(self, route_id: str) -> Route | None:
        """The route with this id, or ``None``."""
        with self._lock:
            return self._routes.get(route_id)

    def delete_route(self, route_id: str) -> Route | None:
        """Forget a route; answers it, or ``None`` if there was none."""
        with self._lock:
            route = self._routes.pop(route_id, None)
            if route is not None:
                self._ordered = None
                self._changed()
            return route

    def routes(self) -> list[Route]:
        """Every route in evaluation order (priority, then creation). A fresh list each call."""
        with self._lock:
            if self._ordered is None:
                self._ordered = sorted(self._routes.values(), key=lambda r: r.sort_key)
            return list(self._ordered)

    # -- stored messages ------------------------------------------------------------------

    def add_message(self, message: StoredMessage) -> None:
        """Keep a stored message under its key."""
        with self._lock:
            self._messages[message.key] = message
            if self.max_messages is not None and len(self._messages) > self.max_messages:
                del self._messages[next(iter(self._messages))]  # dicts keep insertion order: the oldest
                self.evicted["messages"] += 1
            self._changed()

    def get_message(self, key: str, now: float) -> StoredMessage | None:
        """The message stored under ``key`` unless it has expired by ``now`` (then it is dropped)."""
        with self._lock:
            message = self._messages.get(key)
            if message is not None and message.expires_at <= now:
                del self._messages[key]
                self._changed()
                return None
            return message

    def delete_message(self, key: str) -> StoredMessage | None:
        """Forget a stored message; answers it, or ``None``."""
        with self._lock:
            message = self._messages.pop(key, None)
            if message is not None:
                self._changed()
            return message

    def expire_messages(self, now: float) -> int:
        """Drop every message whose retention ended by ``now``; answers how many."""
        with self._lock:
            expired = [k for k, m in self._messages.items() if m.expires_at <= now]
            for key in expired:
                del self._messages[key]
            if expired:
                self._changed()
            return len(expired)

    def messages(self) -> list[StoredMessage]:
        """Every stored message (expired ones included until something expires them)."""
        with self._lock:
            return list(self._messages.values())

    # -- events ---------------------------------------------------------------------------

    def add_event(self, domain: str, event: dict[str, Any]) -> None:
        """Record an event in ``domain``'s log. The dict is owned by the store from now on."""
        with self._lock:
            events = self._events.get(domain.lower())
            if events is None:
                events = self._events[domain.lower()] = EventLog()
            events.append(event)
            if self.max_events is not None and len(events) > self.max_events:
                self.evicted["events"] += events.evict_oldest(len(events) - self.max_events)
            self._changed()

    def events_response(self, domain: str, query: EventQuery | None, token: str | None, base_url: str,
                        now: float) -> dict[str, Any]:
        """One Events API page of ``domain`` with its paging links (see :func:`events.events_response`)."""
        with self._lock:
            events = self._events.get(domain.lower()) or EventLog()
            # Events are never changed once stored, so the page may share their dicts.
            return events_response(events, query, token, base_url, domain, now)

    def counts(self) -> dict[str, Any]:
        """How much is kept, and how much the caps evicted (for ``/mock/health``)."""
        with self._lock:
            return {"routes": len(self._routes), "stored_messages": len(self._messages),
                    "events": sum(len(domain_log) for domain_log in self._events.values()),
                    "evicted": dict(self.evicted)}

    def all_events(self) -> list[dict[str, Any]]:
        """Every event of every domain, oldest first (for tests and the Python API)."""
        with self._lock:
            events = [e for domain_log in self._events.values() for e in domain_log]
        return sorted(events, key=lambda e: e["timestamp"])

    def events_by_domain(self) -> dict[str, list[dict[str, Any]]]:
        """Every domain's events, oldest first (the dicts are shared: never change them)."""
        with self._lock:
            return {domain: list(domain_log) for domain, domain_log in self._events.items()}

    # -- domain webhooks ------------------------------------------------------------------

    def webhooks(self, domain: str) -> dict[str, tuple[str, ...]]:
        """``domain``'s event webhooks: name -> URLs."""
        with self._lock:
            return dict(self._send.webhooks.get(domain.lower(), {}))

    def set_webhook(self, domain: str, name: str, urls: tuple[str, ...]) -> None:
        """Set the URLs of one of ``domain``'s webhooks."""
        with self._lock:
            self._send.webhooks.setdefault(domain.lower(), {})[name] = urls
            self._changed()

    def delete_webhook(self, domain: str, name: str) -> tuple[str, ...] | None:
        """Remove one of ``domain``'s webhooks; answers its URLs, or ``None``."""
        with self._lock:
            urls = self._send.webhooks.get(domain.lower(), {}).pop(name, None)
            if urls is not None:
                self._changed()
            return urls

    # -- rules, suppressions, outbox -------------------------------------------------------

    def add_rule(self, rule: Rule) -> None:
        """Add a delivery rule; rules are tried in creation order."""
        with self._lock:
            self._send.rules.append(rule)
            self._changed()

    def rules(self) -> list[Rule]:
        """The delivery rules, in the order they are tried."""
        with self._lock:
            return list(self._send.rules)

    def delete_rules(self, rule_id: str | None = None) -> int:
        """Remove the rule ``rule_id`` (every rule when ``None``); answers how many went."""
        with self._lock:
            before = len(self._send.rules)
            self._send.rules[:] = [] if rule_id is None else [r for r in self._send.rules if r.id != rule_id]
            gone = before - len(self._send.rules)
            if gone:
                self._changed()
            return gone

    def suppression(self, domain: str, address: str, tags: Sequence[str] = ()) -> SuppressionHit | None:
        """Why a send from ``domain`` to ``address`` (carrying ``tags``) is suppressed, or ``None``."""
        with self._lock:
            return self._send.suppressions.lookup(domain, address, tags=tags)

    def add_suppression(self, kind: ListKind, domain: str, address: str, *, code: int, error: str,
                        created_at: float, tag: str | None = None) -> None:
        """Put ``address`` on one of ``domain``'s suppression lists."""
        with self._lock:
            if kind != "bounces" or not self._send.suppressions.allowed(domain, address):
                self._send.suppressions.add(kind, domain, address, code=code, error=error, created_at=created_at, tag=tag)
                self._changed()

    def add_suppressions(self, kind: str, domain: str, records: Sequence[SuppressionRecord]) -> None:
        """Put records on one of ``domain``'s lists at once (``whitelists``: ``code``/``error`` unused,
        ``tag`` is the type, ``error`` the reason); an allowlisted address never goes on ``bounces``."""
        with self._lock:
            lists = self._send.suppressions
            for r in records:
                if kind == "whitelists":
                    lists.allow(domain, r.tag or "address", r.address, reason=r.error, created_at=r.created_at)
                elif kind != "bounces" or not lists.allowed(domain, r.address):
                    lists.add(kind, domain, r.address, code=r.code, error=r.error, created_at=r.created_at, tag=r.tag)
            self._changed()

    def allowlisted(self, domain: str, address: str) -> bool:
        """Whether ``address`` or its domain is on ``domain``'s allowlist."""
        with self._lock:
            return self._send.suppressions.allowed(domain, address)

    def suppression_entry(self, kind: str, domain: str, address: str) -> dict[str, Any] | None:
        """One record of one of ``domain``'s lists, in the API's shape, or ``None``."""
        with self._lock:
            return self._send.suppressions.get(kind, domain, address)

    def remove_suppression(self, kind: str, domain: str, address: str, tag: str | None = None) -> bool:
        """Take ``address`` off a list (unsubscribes: only ``tag``, if given); whether it was there."""
        with self._lock:
            removed = self._send.suppressions.remove(kind, domain, address, tag=tag)
            if removed:
                self._changed()
            return removed

    def clear_suppressions(self, kind: str, domain: str) -> int:
        """Empty one of ``domain``'s lists; answers how many records went."""
        with self._lock:
            gone = self._send.suppressions.clear(kind, domain)
            self._changed()
            return gone

    def suppressions(self, kind: str, domain: str, *, page: str = "", pivot: str = "", limit: int = 1000,
                     term: str = "") -> list[dict[str, Any]]:
        """One page of one of ``domain``'s lists, in the API's shape (see :meth:`Suppressions.page`)."""
        with self._lock:
            return self._send.suppressions.page(kind, domain, page=page, pivot=pivot, limit=limit, term=term)

    def add_sent(self, sent: SentMessage) -> None:
        """Record a sent message in the outbox."""
        with self._lock:
            self._send.sent.append(sent)
            self._changed()

    def sent(self) -> list[SentMessage]:
        """The outbox, oldest first."""
        with self._lock:
            return list(self._send.sent)

    # -- deliveries -----------------------------------------------------------------------

    def add_attempt(self, attempt: DeliveryAttempt) -> None:
        """Log one webhook delivery attempt."""
        with self._lock:
            self._attempts.append(attempt)
            self._changed()

    def attempts(self) -> list[DeliveryAttempt]:
        """Every delivery attempt, oldest first."""
        with self._lock:
            return list(self._attempts)

    # -- everything -----------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._routes.clear()
            self._ordered = []
            self._messages.clear()
            self._events.clear()
            self._attempts.clear()
            self._send.clear()
            self.resources.clear()
            self.mailbox.clear()
            self.children.clear()
            self.evicted = {"messages": 0, "events": 0}
            self._changed()

    # -- snapshots ------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a JSON-ready dict, consistent as of one moment.

        Only references are copied under the lock (records are immutable and events are never
        changed once stored); encoding them, base64 for raw messages included, happens after
        it is released. The event dicts are shared with the store: don't change them.

        Kept: routes in insertion order with their ``seq``, stored messages in insertion order,
        events per domain oldest first, delivery attempts oldest first, and the route sequence
        counter, so ids and ordering carry on where they were after :meth:`restore`.
        """
        with self._lock:
            routes = list(self._routes.values())
            messages = list(self._messages.values())
            events = {domain: list(domain_log) for domain, domain_log in self._events.items()}
            attempts = list(self._attempts)
            next_seq = self._next_seq
            send = self._send.to_dict()
            resources = self.resources.to_dict()
            children = self.children.stores()
        state = {
            "send": send,
            "attempts": [attempt.to_dict() for attempt in attempts],
            "counters": {"route_seq": next_seq},
            "events": events,
            "messages": [message.to_dict() for message in messages],
            "routes": [route.to_dict() for route in routes],
            "resources": resources,
        }
        if children:  # the subaccounts' own states, each as of its own moment
            state["subaccounts"] = {name: child.snapshot() for name, child in children.items()}
        return state

    def restore(self, data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Replace the whole state with a :meth:`snapshot`'s (or :func:`decode_state`'s); listeners are told.

        Everything is decoded and checked before anything is replaced, so on error the store is
        unchanged. The event dicts become the store's: don't change them afterwards.

        :returns: the subaccounts' own states, decoded, for the owner to restore into their stores.
        :raises ValueError: saying which part of ``data`` doesn't deserialise, and why.
        """
        # Building the logs makes many objects and no garbage: the cyclic collector waits.
        collecting = gc.isenabled()
        gc.disable()
        try:
            state = decode_state(data)
            events: dict[str, EventLog] = {}
            for domain, items in state["events"].items():
                domain_log = events.setdefault(domain.lower(), EventLog())
                for number, event in enumerate(items):
                    try:
                        domain_log.append(event)
                    except ValueError as exc:
                        raise ValueError(f"state: events[{domain!r}][{number}]: {exc}") from None
        finally:
            if collecting:
                gc.enable()
        routes = {route.id: route for route in state["routes"]}
        # Never hand out a seq already taken, even if the counter was edited by hand.
        next_seq = max([state["counters"]["route_seq"], *(route.seq + 1 for route in routes.values())])
        with self._lock:
            self._routes = routes
            self._ordered = None
            self._next_seq = next_seq
            self._messages = {message.key: message for message in state["messages"]}
            self._events = events
            self._attempts = list(state["attempts"])
            self._send = state["send"]
            self.resources.load(state["resources"])
            self.children.clear()  # their states are the owner's to restore (``Backend.restore``)
            self._changed()
        return dict(state["subaccounts"])
