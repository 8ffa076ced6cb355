"""The Routes API (``/v3/routes``): create, list, get, update, delete and match, with Mailgun's messages."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from ..base.errors import BadRequest, ExpressionError, NotFound
from ..base.logtext import printable
from ..base.records import Route
from ..lang.actions import parse_action
from ..lang.filters import MatchContext, parse_filter
from .context import Context
from .params import integer, limited

__all__ = ["ACTIONS_MAX", "ROUTES_LIMIT_MAX", "RouteOperations"]

log = logging.getLogger("mailgun_mock")
ROUTES_LIMIT_MAX = 1000
ACTIONS_MAX = 100
ROUTES_LIMIT_DEFAULT = 100


class RouteOperations(Context):
    """``/v3/routes``: every route operation Mailgun offers."""

    @staticmethod
    def _validate_expression(expression: str) -> str:
        limited(expression, "expression")
        try:
            parse_filter(expression)
        except ExpressionError as exc:
            raise BadRequest(f"Invalid expression: {exc.message}") from None
        return expression

    @staticmethod
    def _validate_actions(actions: Sequence[str]) -> tuple[str, ...]:
        if len(actions) > ACTIONS_MAX:
            # Mailgun documents no maximum; a cap keeps one request from making a route that costs
            # every inbound message thousands of actions (a deliberate difference, in the README).
            raise BadRequest(f"A route may have at most {ACTIONS_MAX} actions, got {len(actions)}; "
                             "create further routes with the same expression for more")
        for number, action in enumerate(actions, 1):
            limited(action, "action")
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
            priority=integer(priority, "priority", 0),
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
        skip_n = integer(skip, "skip", 0)
        limit_n = integer(limit, "limit", ROUTES_LIMIT_DEFAULT)
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
            changes["priority"] = integer(priority, "priority", route.priority)
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
