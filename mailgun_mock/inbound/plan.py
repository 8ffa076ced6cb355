"""Route evaluation for one envelope recipient: which routes match and which actions run (pure).

Mailgun's rules: routes are consulted in priority order (ascending, then creation); every route
that matches runs its actions, in the order listed; ``stop()`` ends the evaluation after the
current route; ``catch_all()`` matches only when no earlier route matched this recipient.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..base.records import Route
from ..lang.actions import Action, parse_action
from ..lang.filters import HeaderSource, MatchContext, MatchResult, parse_filter

__all__ = ["RecipientPlan", "RouteOutcome", "plan_recipient"]


@dataclasses.dataclass(frozen=True)
class RouteOutcome:
    """One route evaluated for one recipient."""

    route: Route
    result: MatchResult

    def to_json(self) -> dict[str, Any]:
        """How the inject answer shows it: the route, whether it matched, captures, and why."""
        return {
            "id": self.route.id,
            "priority": self.route.priority,
            "expression": self.route.expression,
            "matched": self.result.matched,
            "captures": self.result.captures,
            "explanation": self.result.explain(),
            "timed_out": list(self.result.timed_out),
        }


@dataclasses.dataclass(frozen=True)
class RecipientPlan:
    """What routing decided for one recipient.

    :param outcomes: every route evaluated, in order (routes after a ``stop()`` are not evaluated).
    :param actions: the actions to run, in order, with captures filled in, and the route each came from.
    :param stopped_by: the id of the route whose ``stop()`` ended the evaluation, if any.
    """

    recipient: str
    outcomes: tuple[RouteOutcome, ...]
    actions: tuple[tuple[Route, Action], ...]
    stopped_by: str | None

    @property
    def matched(self) -> list[Route]:
        """The routes that matched, in evaluation order."""
        return [o.route for o in self.outcomes if o.result.matched]


def plan_recipient(routes: Sequence[Route], recipient: str, headers: HeaderSource, timeout: float) -> RecipientPlan:
    """Evaluate ``routes`` (already in evaluation order) for one envelope recipient.

    :param headers: the message's headers, for ``match_header``.
    :param timeout: seconds each filter function may spend in its regular expression.
    """
    outcomes: list[RouteOutcome] = []
    actions: list[tuple[Route, Action]] = []
    earlier_match = False
    for route in routes:
        ctx = MatchContext(recipient, headers, earlier_match, timeout)
        result = parse_filter(route.expression).evaluate(ctx)
        outcomes.append(RouteOutcome(route, result))
        if not result.matched:
            continue
        earlier_match = True
        parsed = [parse_action(text).expand(result) for text in route.actions]
        actions.extend((route, action) for action in parsed if action.kind != "stop")
        if any(action.kind == "stop" for action in parsed):
            return RecipientPlan(recipient, tuple(outcomes), tuple(actions), route.id)
    return RecipientPlan(recipient, tuple(outcomes), tuple(actions), None)
