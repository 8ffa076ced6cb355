"""All mutable state, in memory, behind one lock that only this module takes.

Public methods take the lock and hand back immutable records or fresh lists, so callers never
hold the lock while they do I/O.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from typing import Any

from .events import EventLog, EventQuery, events_response
from .models import DeliveryAttempt, Route, StoredMessage

__all__ = ["Store"]


class Store:
    """The mock's memory: routes, stored messages, events (one log per domain), delivery attempts."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._routes: dict[str, Route] = {}
        self._ordered: list[Route] | None = []
        self._seq = itertools.count()
        self._messages: dict[str, StoredMessage] = {}
        self._events: dict[str, EventLog] = {}
        self._attempts: list[DeliveryAttempt] = []

    # -- routes ---------------------------------------------------------------------------

    def add_route(self, route: Route) -> Route:
        """Keep a new route; answers it with its insertion sequence number set."""
        with self._lock:
            route = dataclasses.replace(route, seq=next(self._seq))
            self._routes[route.id] = route
            self._ordered = None
            return route

    def replace_route(self, route: Route) -> None:
        """Store an updated route under its id."""
        with self._lock:
            self._routes[route.id] = route
            self._ordered = None

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

    def get_message(self, key: str, now: float) -> StoredMessage | None:
        """The message stored under ``key`` unless it has expired by ``now`` (then it is dropped)."""
        with self._lock:
            message = self._messages.get(key)
            if message is not None and message.expires_at <= now:
                del self._messages[key]
                return None
            return message

    def delete_message(self, key: str) -> StoredMessage | None:
        """Forget a stored message; answers it, or ``None``."""
        with self._lock:
            return self._messages.pop(key, None)

    def expire_messages(self, now: float) -> int:
        """Drop every message whose retention ended by ``now``; answers how many."""
        with self._lock:
            expired = [k for k, m in self._messages.items() if m.expires_at <= now]
            for key in expired:
                del self._messages[key]
            return len(expired)

    def messages(self) -> list[StoredMessage]:
        """Every stored message (expired ones included until something expires them)."""
        with self._lock:
            return list(self._messages.values())

    # -- events ---------------------------------------------------------------------------

    def add_event(self, domain: str, event: dict[str, Any]) -> None:
        """Record an event in ``domain``'s log. The dict is owned by the store from now on."""
        with self._lock:
            log = self._events.get(domain.lower())
            if log is None:
                log = self._events[domain.lower()] = EventLog()
            log.append(event)

    def events_response(self, domain: str, query: EventQuery | None, token: str | None, base_url: str,
                        now: float) -> dict[str, Any]:
        """One Events API page of ``domain`` with its paging links (see :func:`events.events_response`)."""
        with self._lock:
            log = self._events.get(domain.lower()) or EventLog()
            # Events are never changed once stored, so the page may share their dicts.
            return events_response(log, query, token, base_url, domain, now)

    def all_events(self) -> list[dict[str, Any]]:
        """Every event of every domain, oldest first (for tests and the Python API)."""
        with self._lock:
            events = [e for log in self._events.values() for e in log]
        return sorted(events, key=lambda e: e["timestamp"])

    # -- deliveries -----------------------------------------------------------------------

    def add_attempt(self, attempt: DeliveryAttempt) -> None:
        """Log one webhook delivery attempt."""
        with self._lock:
            self._attempts.append(attempt)

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
