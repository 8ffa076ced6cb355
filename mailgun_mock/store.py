"""All mutable state, in memory, behind one lock that only this module takes.

Public methods take the lock and hand back immutable records or fresh lists, so callers never
hold the lock while they do I/O.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading

from .models import Route

__all__ = ["Store"]


class Store:
    """The mock's memory: routes (and, as the product grows, messages, events, deliveries)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._routes: dict[str, Route] = {}
        self._ordered: list[Route] | None = []
        self._seq = itertools.count()

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

    # -- everything -----------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._routes.clear()
            self._ordered = []
