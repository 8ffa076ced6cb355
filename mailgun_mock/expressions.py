"""Mailgun route filters and actions: a parser and a time-bounded matcher (pure, never ``eval``).

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

Actions use the same lexer: ``forward("dest[, dest…]")``, ``store()``,
``store(notify="https://…")`` and ``stop()``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Callable, Iterator
from typing import Protocol, Union
from urllib.parse import urlsplit

import regex

from .exceptions import ExpressionError

__all__ = [
    "Action",
    "Filter",
    "HeaderSource",
    "MatchContext",
    "MatchResult",
    "NO_HEADERS",
    "is_url",
    "parse_action",
    "parse_filter",
]

# name -> number of positional arguments
FILTER_FUNCTIONS = {"match_recipient": 1, "match_header": 2, "catch_all": 0}
ACTION_FUNCTIONS = ("forward", "store", "stop")
KEYWORDS = ("and", "or", "not")
_ADDRESS = re.compile(r"[^@\s,]+@[^@\s,]+")


# --------------------------------------------------------------------------- lexer


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # "name", "string", "(", ")", ",", "=", "end"
    text: str
    pos: int


_PUNCT = "(),="


def _tokenize(text: str) -> list[_Token]:
    if "\n" in text or "\r" in text:
        raise ExpressionError("expressions must fit on one line", text.find("\n") if "\n" in text else text.find("\r"))
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in _PUNCT:
            tokens.append(_Token(c, c, i))
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise ExpressionError(f"unbalanced quotes: the string opened with {c} is never closed", i)
            tokens.append(_Token("string", text[i + 1 : j], i))
            i = j + 1
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(_Token("name", text[i:j], i))
            i = j
        else:
            raise ExpressionError(f"unexpected character {c!r}", i)
    tokens.append(_Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.tokens = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self, kind: str, expected: str) -> _Token:
        tok = self.tok
        if tok.kind != kind:
            found = "the end of the " + self.what if tok.kind == "end" else repr(tok.text)
            raise ExpressionError(f"expected {expected}, found {found}", tok.pos)
        self.i += 1
        return tok

    def is_keyword(self, word: str) -> bool:
        return self.tok.kind == "name" and self.tok.text == word

    def call(self) -> _Call:
        name = self.take("name", "a function call")
        if name.text in KEYWORDS:
            raise ExpressionError(f"expected a function call, found {name.text!r}", name.pos)
        if self.tok.kind != "(":
            hint = f" (operators are lowercase: {', '.join(KEYWORDS)})" if name.text.lower() in KEYWORDS else ""
            raise ExpressionError(f"expected '(' after {name.text!r}{hint}", self.tok.pos)
        self.i += 1
        args: list[str] = []
        kwargs: list[tuple[str, str]] = []
        while self.tok.kind != ")":
            if args or kwargs:
                self.take(",", "',' or ')'")
            if self.tok.kind == "name":
                key = self.take("name", "an argument")
                self.take("=", f"'=' after {key.text!r}")
                kwargs.append((key.text, self.take("string", "a quoted string").text))
            else:
                if kwargs:
                    raise ExpressionError("positional argument after keyword argument", self.tok.pos)
                args.append(self.take("string", "a quoted string or ')'").text)
        self.i += 1
        return _Call(name.text, tuple(args), tuple(kwargs), name.pos)

    def finish(self) -> None:
        if self.tok.kind == "name" and self.tok.text.lower() in KEYWORDS and self.tok.text not in KEYWORDS:
            raise ExpressionError(f"unknown operator {self.tok.text!r} (operators are lowercase: and, or, not)", self.tok.pos)
        if self.tok.kind != "end":
            raise ExpressionError(f"unexpected {self.tok.text!r} after the end of the {self.what}", self.tok.pos)


# --------------------------------------------------------------------------- filters


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
        except (regex.error, IndexError):
            return template

    def explain(self) -> str:
        """The reasons on one line."""
        return "; ".join(self.reasons)


@dataclasses.dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    pos: int

    def source(self) -> str:
        return f"{self.name}({', '.join(repr(a) for a in self.args)})"


@dataclasses.dataclass(frozen=True)
class _Test:
    """A validated filter function with its compiled pattern."""

    call: _Call
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

    @property
    def uses_catch_all(self) -> bool:
        """Whether ``catch_all()`` appears anywhere in the filter."""
        return any(isinstance(n, _Test) and n.pattern is None for n in _walk(self.root))


def _walk(node: _Node) -> Iterator[_Node]:
    yield node
    if isinstance(node, _Not):
        yield from _walk(node.operand)
    elif isinstance(node, _BoolOp):
        for operand in node.operands:
            yield from _walk(operand)


class _FilterParser(_Parser):
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
        if self.is_keyword("not"):
            self.i += 1
            return _Not(self.not_())
        if self.tok.kind == "(":
            self.i += 1
            node = self.expr()
            self.take(")", "')'")
            return node
        return self.test(self.call())

    def test(self, call: _Call) -> _Test:
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
            pattern = regex.compile(call.args[-1], flags)
        except (regex.error, ValueError, OverflowError, RecursionError) as exc:
            raise ExpressionError(f"invalid regular expression in {call.name}: {exc}", call.pos) from None
        return _Test(call, pattern)


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


# --------------------------------------------------------------------------- actions


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

    def expand(self, result: MatchResult) -> Action:
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
    parser = _Parser(text, "action")
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
