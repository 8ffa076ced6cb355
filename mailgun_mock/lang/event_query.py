"""Mailgun's Events API queries: the filter fields, the filter language and EventQuery (pure).

What a query is, apart from where events live: :func:`parse_event_query` reads the query string
of ``GET /v3/<domain>/events`` into an :class:`EventQuery` (a time range, a direction, a page size
and compiled filters), which matches single events. The event log (:mod:`mailgun_mock.state.events`)
walks its indexes with :meth:`EventQuery.index_keys` and :func:`index_key` and asks
:meth:`EventQuery.passes_filters` of each candidate.

Filter expressions (one per filter parameter; a repeated parameter ANDs its expressions)::

    expr  := conj ("OR" conj)*
    conj  := unary (["AND"] unary)*        # juxtaposed terms are ANDed
    unary := "NOT" unary | "(" expr ")" | WORD | '"' PHRASE '"' | (">" | "<") NUMBER
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeGuard

from ..base.errors import BadRequest

__all__ = [
    "EventQuery",
    "FILTER_FIELDS",
    "INDEXED_FIELDS",
    "LIMIT_DEFAULT",
    "LIMIT_MAX",
    "index_key",
    "is_number",
    "parse_event_query",
]

LIMIT_DEFAULT = 100
LIMIT_MAX = 300
_Node = tuple[Any, ...]
_MAX_DEPTH = 16  # parentheses; bounds the recursion of the parser and the matcher
_MAX_TEXT = 4096  # Mailgun's 4k field limit, applied to each filter expression
_INF = math.inf


def is_number(value: Any, finite: bool = True) -> TypeGuard[float]:
    """Whether ``value`` is a real number (not a bool), finite, or at least not NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) if finite else not math.isnan(value)
    except OverflowError:  # an int too large for a float
        return False


# --------------------------------------------------------------------------- filter fields


def _get(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item.lower() for item in items if isinstance(item, str)]


def _message_id(text: str) -> str:
    # Events carry message ids without angle brackets; people paste them with brackets.
    return text.strip().strip("<>").lower()


def _filenames(event: Any) -> list[str]:
    attachments = _get(event, "message", "attachments")
    return _texts([_get(a, "filename") for a in attachments] if isinstance(attachments, list) else None)


def _sizes(event: Any) -> list[float]:
    size = _get(event, "message", "size")
    return [float(size)] if isinstance(size, (int, float)) and not isinstance(size, bool) else []


# Each field's values in an event, lower-cased. Whole-value ("exact") fields: an event type, a
# severity, an address (Mailgun compares addresses ignoring case), a message id, a tag, a list
# address; a multi-valued field (tags, recipients) matches when any value does.
_EXACT: dict[str, Callable[[Any], list[str]]] = {
    "event": lambda e: _texts(_get(e, "event")),
    "severity": lambda e: _texts(_get(e, "severity")),
    "recipient": lambda e: _texts(_get(e, "recipient")),
    # Mailgun: "specific to stored events, this field tracks all the potential recipients".
    "recipients": lambda e: _texts(_get(e, "message", "recipients")),
    "message-id": lambda e: [_message_id(v) for v in _texts(_get(e, "message", "headers", "message-id"))],
    "tags": lambda e: _texts(_get(e, "tags")),
    "list": lambda e: _texts(_get(e, "mailing-list", "address")),
}
# Text fields: Mailgun documents the terms as "contained" in the value ("an email address
# mentioned in the From header", "a subject line"), so a term matches as a case-insensitive
# substring: from=bob@example.com matches "Bob <Bob@Example.com>", subject=invoice matches
# "Your invoice 42". A quoted phrase is one term, spaces included.
_TEXT: dict[str, Callable[[Any], list[str]]] = {
    "from": lambda e: _texts(_get(e, "message", "headers", "from")),
    "to": lambda e: _texts(_get(e, "message", "headers", "to")),
    "subject": lambda e: _texts(_get(e, "message", "headers", "subject")),
    "attachment": _filenames,
}
FILTER_FIELDS = tuple(sorted([*_EXACT, *_TEXT, "size"]))
# Fields the log indexes: a query that pins one of them to exact values walks only those entries.
INDEXED_FIELDS = ("event", "recipient", "message-id")


def _values(field: str, event: Any) -> list[Any]:
    if field == "size":
        return _sizes(event)
    return (_EXACT.get(field) or _TEXT[field])(event)


def index_key(field: str, event: Any) -> str | None:
    """The value an event is indexed under for one of :data:`INDEXED_FIELDS`, or None."""
    values = _values(field, event)
    return values[0] if values else None


# --------------------------------------------------------------------------- expressions

_TOKEN = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|"(?P<phrase>[^"]*)"|(?P<quote>")|(?P<word>[^\s()"]+))')
_RANGE = re.compile(r"([<>])([0-9]+(?:\.[0-9]+)?)")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_OPERATORS = ("AND", "OR", "NOT")


class _Parser:
    """Recursive descent over the tokens of one filter expression, for one field."""

    def __init__(self, field: str, text: str) -> None:
        self.field, self.text, self.pos = field, text, 0
        self.tokens: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup or ""
            if kind == "quote":
                self.fail("unbalanced quotes: a '\"' is never closed")
            value = match.group(kind)
            if kind == "word" and value in _OPERATORS:
                kind = "op"
            self.tokens.append((kind, value))

    def fail(self, what: str) -> NoReturn:
        text = self.text if len(self.text) <= 60 else self.text[:60] + "…"
        raise BadRequest(f"Invalid filter {self.field}={text!r}: {what}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> _Node:
        if not self.tokens:
            self.fail("the expression is empty")
        node = self.expr(0)
        if self.pos < len(self.tokens):
            self.fail("unbalanced parentheses: unexpected ')'")
        return node

    def expr(self, depth: int) -> _Node:
        parts = [self.conj(depth, None)]
        while self.peek() == ("op", "OR"):
            self.pos += 1
            parts.append(self.conj(depth, "'OR'"))
        return parts[0] if len(parts) == 1 else ("or", tuple(parts))

    def conj(self, depth: int, after: str | None) -> _Node:
        parts = [self.unary(depth, after)]
        while (token := self.peek()) is not None and token[0] != "close" and token != ("op", "OR"):
            explicit = token == ("op", "AND")
            self.pos += explicit
            parts.append(self.unary(depth, "'AND'" if explicit else None))
        return parts[0] if len(parts) == 1 else ("and", tuple(parts))

    def unary(self, depth: int, after: str | None) -> _Node:
        negate = False
        while self.peek() == ("op", "NOT"):  # a loop, not recursion: NOT NOT … cannot overflow
            self.pos, negate, after = self.pos + 1, not negate, "'NOT'"
        token = self.peek()
        if token is None or token[0] in ("op", "close"):
            if after is not None:
                self.fail(f"{after} must be followed by a term")
            if token is None:  # only right after "(": the top level is never empty here
                self.fail("unbalanced parentheses: missing ')'")
            if token[0] == "close":
                self.fail("empty parentheses" if depth else "unbalanced parentheses: unexpected ')'")
            self.fail(f"'{token[1]}' needs a term before it")
        self.pos += 1
        if token[0] == "open":
            if depth >= _MAX_DEPTH:
                self.fail(f"parentheses nested deeper than {_MAX_DEPTH}")
            node = self.expr(depth + 1)
            if self.peek() is None:
                self.fail("unbalanced parentheses: missing ')'")
            self.pos += 1
        else:
            node = self.term(token[1], token[0] == "phrase")
        return ("not", node) if negate else node

    def term(self, text: str, phrase: bool) -> _Node:
        ranged = None if phrase else _RANGE.fullmatch(text)
        if self.field == "size":
            if ranged:
                return ("gt" if ranged.group(1) == ">" else "lt", float(ranged.group(2)))
            if not _NUMBER.fullmatch(text.strip()):
                self.fail(f"size takes numbers and ranges like >10000, got {text!r}")
            return ("num", float(text))
        if ranged:
            self.fail(f"ranges like {text} apply to numeric fields only (size)")
        if self.field in _TEXT:
            return ("has", text.lower())
        return ("eq", _message_id(text) if self.field == "message-id" else text.strip().lower())


def _parse_filter(field: str, text: str) -> _Node:
    if field not in FILTER_FIELDS:
        raise BadRequest(f"Unknown filter field {field!r}")
    if len(text) > _MAX_TEXT:
        raise BadRequest(f"Invalid filter {field}: {len(text)} characters, at most {_MAX_TEXT}")
    return _Parser(field, text).parse()


def _evaluate(node: _Node, values: list[Any]) -> bool:
    kind = node[0]
    if kind == "and":
        return all(_evaluate(part, values) for part in node[1])
    if kind == "or":
        return any(_evaluate(part, values) for part in node[1])
    if kind == "not":
        return not _evaluate(node[1], values)
    if kind == "eq" or kind == "num":
        return node[1] in values
    if kind == "has":
        return any(node[1] in value for value in values)
    if kind == "gt":
        return any(value > node[1] for value in values)
    return any(value < node[1] for value in values)  # "lt"


def _exact_keys(node: _Node) -> frozenset[str] | None:
    """The only values an (indexed, single-valued) field can hold to match, or None if unbounded."""
    if node[0] == "eq":
        return frozenset([node[1]])
    if node[0] in ("and", "or"):
        keys = [_exact_keys(part) for part in node[1]]
        if node[0] == "or":
            return None if None in keys else frozenset().union(*keys)  # type: ignore[arg-type]
        bounded = [k for k in keys if k is not None]
        return frozenset.intersection(*bounded) if bounded else None
    return None


# --------------------------------------------------------------------------- queries


@dataclasses.dataclass(frozen=True)
class EventQuery:
    """What one events request asks for: a time range, a direction, a page size and filters.

    :param begin: where the walk starts (epoch seconds, inclusive); ``None`` means from the
        oldest retained event (ascending) or from the newest (descending).
    :param end: where it stops (inclusive); ``None`` runs down to the retention horizon
        (descending) or never ends, so later pages see new events (ascending).
    :param ascending: oldest first; must agree with ``begin``/``end`` when both are given.
    :param limit: events per page, 1 to :data:`LIMIT_MAX`.
    :param filters: ``(field, expression)`` pairs, all of which an event must match.
    :raises BadRequest: for an unknown field, a malformed expression or an inconsistent range.
    """

    begin: float | None = None
    end: float | None = None
    ascending: bool = False
    limit: int = LIMIT_DEFAULT
    filters: tuple[tuple[str, str], ...] = ()
    _compiled: tuple[tuple[str, _Node], ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or not 1 <= self.limit <= LIMIT_MAX:
            raise BadRequest(f"The 'limit' parameter must be an integer from 1 to {LIMIT_MAX}")
        for bound in (self.begin, self.end):
            if bound is not None and not is_number(bound):
                raise BadRequest(f"Invalid time range bound {bound!r}")
        if self.begin is not None and self.end is not None and self.begin != self.end:
            if self.ascending != (self.end > self.begin):
                raise BadRequest("The 'ascending' parameter contradicts 'begin' and 'end': "
                                 f"an end {'after' if self.end > self.begin else 'before'} the begin means "
                                 f"ascending={'yes' if self.end > self.begin else 'no'}")
        compiled = tuple((field, _parse_filter(field, text)) for field, text in self.filters)
        object.__setattr__(self, "_compiled", compiled)

    @property
    def bounds(self) -> tuple[float, float]:
        """The range as ``(oldest, newest)`` timestamps, infinite where open."""
        first, last = (-_INF if self.begin is None else self.begin), (_INF if self.end is None else self.end)
        if not self.ascending:
            first, last = (-_INF if self.end is None else self.end), (_INF if self.begin is None else self.begin)
        return first, last

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether the event is in the range and passes every filter. Never raises on odd events."""
        low, high = self.bounds
        stamp = event.get("timestamp") if isinstance(event, Mapping) else None
        if not is_number(stamp) or not low <= stamp <= high:
            return False
        return self.passes_filters(event)

    def passes_filters(self, event: Any) -> bool:
        """Whether the event passes every filter, whatever its timestamp. Never raises on odd events."""
        return all(_evaluate(node, _values(field, event)) for field, node in self._compiled)

    def index_keys(self, field: str) -> frozenset[str] | None:
        """The only keys a match can have in the index of ``field`` (:func:`index_key`), or None if unbounded."""
        keys = [_exact_keys(node) for f, node in self._compiled if f == field]
        bounded = [k for k in keys if k is not None]
        return frozenset.intersection(*bounded) if bounded else None


_EPOCH = re.compile(r"[0-9]{1,12}(?:\.[0-9]{0,9})?")
_YES, _NO = ("yes", "true"), ("no", "false")


def _all(params: Any, name: str) -> list[str]:
    values = params.getlist(name) if hasattr(params, "getlist") else params.get(name)
    values = [] if values is None else values if isinstance(values, (list, tuple)) else [values]
    return [value if isinstance(value, str) else str(value) for value in values]


def _first(params: Any, name: str) -> str | None:
    # A repeated scalar parameter: the first value wins, as werkzeug's MultiDict.get has it.
    values = _all(params, name)
    return values[0].strip() if values else None


def _date(name: str, text: str | None) -> float | None:
    if text is None:
        return None
    if _EPOCH.fullmatch(text):
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
        if moment.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError, AttributeError):
        raise BadRequest(f"Invalid '{name}' parameter {text[:60]!r}: expected an RFC 2822 date "
                         "(e.g. 'Fri, 3 May 2013 09:00:00 -0000') or epoch seconds") from None


def parse_event_query(params: Mapping[str, Any] | Any, now: float) -> EventQuery:
    """Read the query string of ``GET /v3/<domain>/events``.

    :param params: a mapping of name to value or list of values, or anything with ``getlist``.
    :param now: the mock's current time: where a descending query with no ``begin`` starts.
    :raises BadRequest: naming the parameter and what is wrong with it.
    """
    begin, end = _date("begin", _first(params, "begin")), _date("end", _first(params, "end"))
    asc_text = _first(params, "ascending")
    ascending = None
    if asc_text is not None:
        if asc_text.lower() not in _YES + _NO:
            raise BadRequest(f"Invalid 'ascending' parameter {asc_text[:20]!r}: expected 'yes' or 'no'")
        ascending = asc_text.lower() in _YES
    limit_text = _first(params, "limit")
    limit = LIMIT_DEFAULT
    if limit_text is not None:
        if not re.fullmatch(r"[+-]?[0-9]{1,9}", limit_text):
            raise BadRequest(f"Invalid 'limit' parameter {limit_text[:20]!r}: expected an integer")
        limit = int(limit_text)
        if limit > LIMIT_MAX:
            raise BadRequest(f"The 'limit' parameter can't be larger than {LIMIT_MAX}")
        if limit < 1:
            raise BadRequest("The 'limit' parameter must be at least 1")
    # Mailgun: the direction follows from begin and end when both are given; otherwise from
    # `ascending`, which defaults to descending (a request with no parameters pages back from
    # now; Mailgun asks for `ascending` when there is no end, we default it rather than refuse).
    # A lone end after now therefore reads as ascending. A missing begin is `now` going down
    # and, going up, the oldest retained event (ascending=yes alone lists everything kept).
    if ascending is None:
        reference = now if begin is None else begin
        ascending = end is not None and end > reference
    if begin is None and not ascending:
        begin = now
    filters = tuple((field, text) for field in FILTER_FIELDS for text in _all(params, field)
                    if text.strip())  # an empty value filters nothing: some clients send every key
    return EventQuery(begin=begin, end=end, ascending=ascending, limit=limit, filters=filters)
