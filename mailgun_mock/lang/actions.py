"""The route action language: parse and validate ``forward``, ``store`` and ``stop`` (pure).

Actions use the call syntax of :mod:`mailgun_mock.lang.syntax`: ``forward("dest[, dest…]")``, ``store()``,
``store(notify="https://…")`` and ``stop()``. :mod:`mailgun_mock.inbound.run` runs them.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Protocol
from urllib.parse import urlsplit

from ..base.errors import ExpressionError
from .syntax import Parser

__all__ = ["Action", "is_url", "parse_action"]

ACTION_FUNCTIONS = ("forward", "store", "stop")
_ADDRESS = re.compile(r"[^@\s,]+@[^@\s,]+")


class _Captures(Protocol):
    """What :meth:`Action.expand` needs of a filter's outcome: a :class:`~mailgun_mock.lang.filters.MatchResult`."""

    def expand(self, template: str) -> str: ...


@dataclasses.dataclass(frozen=True)
class Action:
    """A parsed route action.

    :param kind: ``forward``, ``store`` or ``stop``.
    :param destinations: for ``forward``: each comma-separated destination, as written.
    :param notify: for ``store``: the notify URL, if any.
    """

    text: str
    kind: str
    destinations: tuple[str, ...] = ()
    notify: str | None = None

    def expand(self, result: _Captures) -> Action:
        """This action with the filter's captures filled into its arguments."""
        return dataclasses.replace(
            self,
            destinations=tuple(result.expand(d) for d in self.destinations),
            notify=None if self.notify is None else result.expand(self.notify),
        )


def is_url(destination: str) -> bool:
    """Whether a forward destination is a webhook URL (else it is an email address)."""
    return destination[:8].lower().startswith(("http://", "https://"))


def _check_url(url: str, what: str, pos: int) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise ExpressionError(f"{what} must be an http:// or https:// URL, got {url!r}", pos)


@functools.lru_cache(maxsize=4096)
def parse_action(text: str) -> Action:
    """Parse and validate one route action.

    :raises ExpressionError: saying what is wrong and where.
    """
    if not text.strip():
        raise ExpressionError("the action is empty")
    parser = Parser(text, "action")
    call = parser.call()
    parser.finish()
    name, args, kwargs = call.name, call.args, dict(call.kwargs)
    if name not in ACTION_FUNCTIONS:
        raise ExpressionError(f"unknown action {name!r} (actions are forward, store and stop)", call.pos)
    if name == "stop":
        if args or kwargs:
            raise ExpressionError("stop() takes no arguments", call.pos)
        return Action(text, "stop")
    if name == "store":
        if args or set(kwargs) - {"notify"}:
            raise ExpressionError('store() takes only notify="URL"', call.pos)
        notify = kwargs.get("notify")
        if notify is not None:
            _check_url(notify.strip(), "store(notify=…)", call.pos)
            notify = notify.strip()
        return Action(text, "store", notify=notify)
    if kwargs or len(args) != 1:
        raise ExpressionError("forward() takes one string of comma-separated destinations", call.pos)
    destinations = tuple(d.strip() for d in args[0].split(","))
    if not any(destinations):
        raise ExpressionError("forward() needs at least one destination", call.pos)
    for dest in destinations:
        if not dest:
            raise ExpressionError("forward() has an empty destination between commas", call.pos)
        if is_url(dest):
            _check_url(dest, "forward destination", call.pos)
        elif not _ADDRESS.fullmatch(dest):
            raise ExpressionError(
                f"forward destination {dest!r} is neither an http(s) URL nor an email address", call.pos
            )
    return Action(text, "forward", destinations=destinations)
