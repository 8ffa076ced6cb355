"""Mailgun route filters: a parser and a time-bounded matcher (pure, never ``eval``).

Mailgun parses a filter as a one-line Python boolean expression over three functions. The
grammar accepted here::

    expr    := and_ ("or" and_)*
    and_    := not_ ("and" not_)*
    not_    := "not" not_ | primary
    primary := "(" expr ")" | call
    call    := NAME "(" [arg ("," arg)*] ")"
    arg     := STRING | NAME "=" STRING

Strings take single or double quotes and are read like Python raw strings: a backslash keeps
the character after it (so ``"\\d+"`` is the regex ``\\d+`` and ``"\\1"`` stays a back-reference
for :meth:`MatchResult.expand`; an escaped quote does not end the string).

The lexer and the ``call`` rule are shared with route actions and live in :mod:`.syntax`.
The action language is :mod:`.actions`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
import warnings
from collections.abc import Callable
from typing import Protocol, Union

import regex

from ..base.errors import ExpressionError
from .syntax import Call, Parser

__all__ = [
    "Filter",
    "HeaderSource",
    "MatchContext",
    "MatchResult",
    "NO_HEADERS",
    "compile_pattern",
    "parse_filter",
]

# name -> number of positional arguments
FILTER_FUNCTIONS = {"match_recipient": 1, "match_header": 2, "catch_all": 0}


class HeaderSource(Protocol):
    """What the matcher needs of a message: every decoded value of a header, by name."""

    def header_values(self, name: str) -> list[str]: ...


class _NoHeaders:
    def header_values(self, name: str) -> list[str]:
        return []


NO_HEADERS: HeaderSource = _NoHeaders()


@dataclasses.dataclass(frozen=True)
class MatchContext:
    """What one route evaluation looks at.

    :param recipient: the envelope recipient being routed.
    :param headers: the message's headers (:data:`NO_HEADERS` when only an address is known).
    :param earlier_match: whether an earlier route already matched this recipient (for ``catch_all``).
    :param timeout: seconds each filter function may spend in its regular expression.
    """

    recipient: str
    headers: HeaderSource = NO_HEADERS
    earlier_match: bool = False
    timeout: float = 0.05


@dataclasses.dataclass(frozen=True)
class MatchResult:
    """The outcome of evaluating a filter: whether it matched, its captures, and why.

    :param matched: the filter's truth value.
    :param match: the regex match whose groups fill ``\\1`` and ``\\g<name>`` in actions.
    :param reasons: one line per function evaluated, saying what it compared and the outcome.
    :param timed_out: the patterns abandoned because matching ran out of time (counted as no match).
    """

    matched: bool
    match: regex.Match[str] | None = None
    reasons: tuple[str, ...] = ()
    timed_out: tuple[str, ...] = ()

    @property
    def captures(self) -> dict[str, str | None]:
        """Numbered and named groups of :attr:`match` (``{"1": …, "name": …}``), for display."""
        if self.match is None:
            return {}
        groups: dict[str, str | None] = {str(i): g for i, g in enumerate(self.match.groups(), 1)}
        groups.update(self.match.groupdict())
        return groups

    def expand(self, template: str) -> str:
        """Fill ``\\1`` and ``\\g<name>`` in an action argument (``Match.expand`` rules).

        A template that refers to a group the filter does not have is returned unchanged rather
        than failing the delivery: Mailgun documents no error for it.
        """
        if self.match is None or "\\" not in template:
            return template
        try:
            return str(self.match.expand(template))
        except (regex.error, IndexError, ValueError):
            return template

    def explain(self) -> str:
        """The reasons on one line."""
        return "; ".join(self.reasons)



@dataclasses.dataclass(frozen=True)
class _Test:
    """A validated filter function with its compiled pattern."""

    call: Call
    pattern: regex.Pattern[str] | None


@dataclasses.dataclass(frozen=True)
class _Not:
    operand: _Node


@dataclasses.dataclass(frozen=True)
class _BoolOp:
    op: str  # "and" | "or"
    operands: tuple[_Node, ...]


_Node = Union[_Test, _Not, _BoolOp]


def _shorten(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


class _Evaluation:
    def __init__(self, ctx: MatchContext) -> None:
        self.ctx = ctx
        self.reasons: list[str] = []
        self.timed_out: list[str] = []

    def run(self, node: _Node) -> tuple[bool, regex.Match[str] | None]:
        if isinstance(node, _Test):
            return self.test(node)
        if isinstance(node, _Not):
            value, _ = self.run(node.operand)
            return not value, None
        last: regex.Match[str] | None = None
        for operand in node.operands:
            value, match = self.run(operand)
            if node.op == "or" and value:
                return True, match
            if node.op == "and":
                if not value:
                    return False, None
                last = match or last
        return node.op == "and", last

    def test(self, node: _Test) -> tuple[bool, regex.Match[str] | None]:
        call = node.call
        if node.pattern is None:  # catch_all()
            if self.ctx.earlier_match:
                self.reasons.append("catch_all(): an earlier route matched")
                return False, None
            self.reasons.append("catch_all(): no earlier route matched")
            return True, None
        if call.name == "match_recipient":
            subjects = [self.ctx.recipient]
            what = "recipient"
        else:
            subjects = self.ctx.headers.header_values(call.args[0])
            what = f"header {call.args[0]!r}"
            if not subjects:
                self.reasons.append(f"{call.source()}: the message has no {what}")
                return False, None
        # Each function gets the whole budget (a timeout in one operand must not starve the
        # others), spent across all the header's values.
        deadline = time.monotonic() + self.ctx.timeout
        for value in subjects:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                match = node.pattern.match(value, timeout=remaining)
            except TimeoutError:
                self.timed_out.append(call.source())
                self.reasons.append(f"{call.source()}: matching timed out, counted as no match")
                return False, None
            if match is not None:
                self.reasons.append(f"{call.source()}: {what} {_shorten(value)} matches")
                return True, match
        shown = ", ".join(_shorten(v) for v in subjects[:3]) + (", …" if len(subjects) > 3 else "")
        self.reasons.append(f"{call.source()}: {what} {shown} does not match")
        return False, None


@dataclasses.dataclass(frozen=True)
class Filter:
    """A parsed, validated route filter. Build it with :func:`parse_filter`."""

    text: str
    root: _Node

    def evaluate(self, ctx: MatchContext) -> MatchResult:
        """Evaluate against one recipient of one message; never raises."""
        ev = _Evaluation(ctx)
        matched, match = ev.run(self.root)
        return MatchResult(matched, match if matched else None, tuple(ev.reasons), tuple(ev.timed_out))


MAX_DEPTH = 64  # nested "not" and parentheses: Python's recursion limit must never be the judge


class _FilterParser(Parser):
    depth = 0

    def expr(self) -> _Node:
        return self.bool_op("or", self.and_)

    def and_(self) -> _Node:
        return self.bool_op("and", self.not_)

    def bool_op(self, op: str, operand: Callable[[], _Node]) -> _Node:
        parts = [operand()]
        while self.is_keyword(op):
            self.i += 1
            parts.append(operand())
        return parts[0] if len(parts) == 1 else _BoolOp(op, tuple(parts))

    def not_(self) -> _Node:
        if self.is_keyword("not") or self.tok.kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)", self.tok.pos)
            try:
                if self.is_keyword("not"):
                    self.i += 1
                    return _Not(self.not_())
                self.i += 1
                node = self.expr()
                self.take(")", "')'")
                return node
            finally:
                self.depth -= 1
        return self.test(self.call())

    def test(self, call: Call) -> _Test:
        if call.name not in FILTER_FUNCTIONS:
            known = ", ".join(FILTER_FUNCTIONS)
            raise ExpressionError(f"unknown function {call.name!r} (filters are {known})", call.pos)
        arity = FILTER_FUNCTIONS[call.name]
        if call.kwargs:
            raise ExpressionError(f"{call.name}() takes no keyword arguments", call.pos)
        if len(call.args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise ExpressionError(f"{call.name}() takes {arity} {plural}, {len(call.args)} given", call.pos)
        if call.name == "catch_all":
            return _Test(call, None)
        if call.name == "match_header" and not call.args[0].strip():
            raise ExpressionError("match_header() needs a header name", call.pos)
        flags = regex.IGNORECASE if call.name == "match_recipient" else 0
        try:
            pattern = compile_pattern(call.args[-1], flags)
        except (regex.error, re.error, ValueError, OverflowError, RecursionError) as exc:
            raise ExpressionError(f"invalid regular expression in {call.name}: {exc}", call.pos) from None
        return _Test(call, pattern)


def compile_pattern(pattern: str, flags: int = 0) -> regex.Pattern[str]:
    """Compile a route or rule pattern for time-bounded matching with the ``regex`` package.

    The pattern must also be a valid stdlib ``re`` pattern, as Mailgun speaks of Python regular
    expressions: the ``regex`` package's own extensions include recursion (``(?R)``, ``(?1)``,
    ``(?&name)``), which can exhaust memory in a way no timeout bounds.

    :param flags: ``regex.IGNORECASE`` or 0.
    :raises re.error: for a pattern the stdlib refuses; ``regex.error`` for one ``regex`` refuses.
    """
    with warnings.catch_warnings():  # e.g. "possible nested set": a hint for the author, not an error
        warnings.simplefilter("ignore")
        re.compile(pattern, re.IGNORECASE if flags & regex.IGNORECASE else 0)
        return regex.compile(pattern, flags)


@functools.lru_cache(maxsize=4096)
def parse_filter(text: str) -> Filter:
    """Parse and validate a route filter (cached: routes are evaluated far more than created).

    :raises ExpressionError: saying what is wrong and where.
    """
    if not text.strip():
        raise ExpressionError("the expression is empty")
    parser = _FilterParser(text, "expression")
    root = parser.expr()
    parser.finish()
    return Filter(text, root)
