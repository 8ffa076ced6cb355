"""Mailgun's Events API: one domain's event log, the query and filter language, paging (pure).

An event is a plain dict in Mailgun's JSON shape (``event``, ``id``, float ``timestamp``,
``recipient``, ``message.headers``…). :class:`EventLog` keeps one domain's events in
(timestamp, arrival) order with indexes by event type, recipient and message id;
:func:`parse_event_query` reads the query string of ``GET /v3/<domain>/events``;
:func:`events_response` answers one page with its ``first``/``last``/``next``/``previous`` URLs,
whose last path segment is an opaque page token (:func:`encode_page_token`).

Filter expressions (one per filter parameter; a repeated parameter ANDs its expressions)::

    expr  := conj ("OR" conj)*
    conj  := unary (["AND"] unary)*        # juxtaposed terms are ANDed
    unary := "NOT" unary | "(" expr ")" | WORD | '"' PHRASE '"' | (">" | "<") NUMBER
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import heapq
import itertools
import json
import math
import os
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeGuard

from .exceptions import BadRequest

__all__ = [
    "Cursor",
    "EventLog",
    "EventQuery",
    "FILTER_FIELDS",
    "LIMIT_DEFAULT",
    "LIMIT_MAX",
    "PageState",
    "decode_page_token",
    "encode_page_token",
    "events_response",
    "new_event_id",
    "parse_event_query",
]

LIMIT_DEFAULT = 100
LIMIT_MAX = 300
Cursor = tuple[float, float]
"""A position in a log's order: ``(timestamp, seq)``; pages start strictly after it."""
_Node = tuple[Any, ...]
_MAX_DEPTH = 16  # parentheses; bounds the recursion of the parser and the matcher
_MAX_TEXT = 4096  # Mailgun's 4k field limit, applied to each filter expression
_INF = math.inf


def _number(value: Any, finite: bool = True) -> TypeGuard[float]:
    """Whether ``value`` is a real number (not a bool), finite, or at least not NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) if finite else not math.isnan(value)
    except OverflowError:  # an int too large for a float
        return False


def new_event_id() -> str:
    """A fresh event id as Mailgun makes them: 16 random bytes in URL-safe base64, 22 characters."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")


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
_INDEXED = ("event", "recipient", "message-id")


def _values(field: str, event: Any) -> list[Any]:
    if field == "size":
        return _sizes(event)
    return (_EXACT.get(field) or _TEXT[field])(event)


def _index_key(field: str, event: Any) -> str | None:
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
            if bound is not None and not _number(bound):
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
        if not _number(stamp) or not low <= stamp <= high:
            return False
        return self._passes(event)

    def _passes(self, event: Any) -> bool:
        return all(_evaluate(node, _values(field, event)) for field, node in self._compiled)

    def _index_keys(self, field: str) -> frozenset[str] | None:
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


# --------------------------------------------------------------------------- the log

_Entry = tuple[float, float, dict[str, Any]]


class _Index:
    """Entries kept in (timestamp, seq) order in three parallel lists (bisect-able, compact)."""

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.seqs: list[int] = []
        self.events: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.stamps)

    def find(self, stamp: float, seq: float, after: bool) -> int:
        """Where (stamp, seq) falls: the first entry above it (after) or at-or-above it."""
        low = bisect.bisect_left(self.stamps, stamp)
        high = bisect.bisect_right(self.stamps, stamp, low)
        return (bisect.bisect_right if after else bisect.bisect_left)(self.seqs, seq, low, high)

    def insert(self, stamp: float, seq: int, event: dict[str, Any]) -> None:
        at = len(self.stamps)
        if at and stamp < self.stamps[-1]:  # a late arrival; the usual case appends
            at = self.find(stamp, seq, after=True)
        self.stamps.insert(at, stamp)
        self.seqs.insert(at, seq)
        self.events.insert(at, event)

    def drop_first(self, count: int) -> None:
        del self.stamps[:count], self.seqs[:count], self.events[:count]

    def walk(self, up: bool, cursor: Cursor | None, low: float, high: float) -> Iterator[_Entry]:
        """Entries within [low, high], strictly beyond ``cursor`` in the walking direction."""
        stamps, seqs, events = self.stamps, self.seqs, self.events
        if up:
            at = bisect.bisect_left(stamps, low)
            if cursor is not None:
                at = max(at, self.find(cursor[0], cursor[1], after=True))
            while at < len(stamps) and stamps[at] <= high:
                yield stamps[at], seqs[at], events[at]
                at += 1
        else:
            at = bisect.bisect_right(stamps, high) - 1
            if cursor is not None:
                at = min(at, self.find(cursor[0], cursor[1], after=False) - 1)
            while at >= 0 and stamps[at] >= low:
                yield stamps[at], seqs[at], events[at]
                at -= 1


class EventLog:
    """One domain's events in (timestamp, arrival) order, with indexes; no I/O, no lock.

    Not thread-safe: the store calls it under its lock. Events are kept as given and must not
    be changed after :meth:`append` (the indexes were computed from them).
    """

    def __init__(self) -> None:
        self._all = _Index()
        self._by: dict[str, dict[str, _Index]] = {field: {} for field in _INDEXED}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Every event, oldest first."""
        return iter(list(self._all.events))

    def append(self, event: dict[str, Any]) -> None:
        """Add an event in order of its ``timestamp`` (ties keep arrival order).

        :raises ValueError: if ``timestamp`` is not a finite number.
        """
        stamp = event.get("timestamp")
        if not _number(stamp):
            raise ValueError(f"an event needs a finite numeric timestamp, got {stamp!r}")
        stamp, seq = float(stamp), next(self._seq)
        self._all.insert(stamp, seq, event)
        for field, index in self._by.items():
            key = _index_key(field, event)
            if key is not None:
                index.setdefault(key, _Index()).insert(stamp, seq, event)

    def clear(self) -> None:
        """Forget every event."""
        self._all = _Index()
        self._by = {field: {} for field in _INDEXED}

    def evict_before(self, timestamp: float) -> int:
        """Drop the events older than ``timestamp``; answers how many went."""
        return self._evict_below(timestamp, -_INF)

    def evict_oldest(self, count: int) -> int:
        """Drop the ``count`` oldest events; answers how many went."""
        if count <= 0 or not self._all:
            return 0
        if count >= len(self._all):
            count = len(self._all)
            self.clear()
            return count
        return self._evict_below(self._all.stamps[count], self._all.seqs[count])

    def _evict_below(self, stamp: float, seq: float) -> int:
        count = self._all.find(stamp, seq, after=False)
        gone = self._all.events[:count]
        self._all.drop_first(count)
        # The evicted events are exactly those below (stamp, seq), so in each index they touch
        # they form a prefix too: only those indexes are visited.
        for field, indexes in self._by.items():
            for key in {_index_key(field, event) for event in gone} - {None}:
                index = indexes.get(key)  # type: ignore[arg-type]
                if index is not None:
                    index.drop_first(index.find(stamp, seq, after=False))
                    if not index:
                        del indexes[key]  # type: ignore[arg-type]
        return count

    def page(self, query: EventQuery, cursor: Cursor | None = None, *, backwards: bool = False) -> list[dict[str, Any]]:
        """Up to ``query.limit`` matching events, in the query's direction, strictly after
        ``cursor`` (or from the start of the range).

        :param backwards: walk against the query's direction instead (from ``cursor``, or from
            the far end of the range), answering events in walking order.
        """
        return [event for _, _, event in self._entries(query, cursor, backwards)]

    def _entries(self, query: EventQuery, cursor: Cursor | None, backwards: bool) -> list[_Entry]:
        up = query.ascending != backwards
        low, high = query.bounds
        walks = [index.walk(up, cursor, low, high) for index in self._sources(query)]
        stream: Iterator[_Entry] = walks[0] if len(walks) == 1 else heapq.merge(*walks, reverse=not up)
        # (seqs are unique, so merging tuples never compares two event dicts)
        return list(itertools.islice((entry for entry in stream if query._passes(entry[2])), query.limit))

    def _sources(self, query: EventQuery) -> list[_Index]:
        """The smallest set of indexes that holds every event the query can match."""
        best, cost = [self._all], len(self._all)
        for field, indexes in self._by.items():
            keys = query._index_keys(field)
            if keys is not None:
                chosen = [indexes[key] for key in sorted(keys) if key in indexes]
                if sum(map(len, chosen)) < cost:
                    best, cost = chosen, sum(map(len, chosen))
        return best or [_Index()]


# --------------------------------------------------------------------------- paging

_KINDS = ("first", "last", "next", "previous")
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]{1,200000}")
_TOKEN_VERSION = 1
_RAW_MAX = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class PageState:
    """Everything a page token stands for, so a page can be served again without the query string.

    :param query: the original query (range, direction, limit, filters).
    :param kind: ``first``, ``last``, ``next`` (after ``cursor``, or from the start when None) or
        ``previous`` (before ``cursor``, or from the far end when None).
    :param cursor: a position between events: ``(timestamp, seq ± 0.5)``.
    :param domain: the domain the token was issued for (a token is no good on another domain).
    """

    query: EventQuery
    kind: str
    cursor: Cursor | None
    domain: str


def encode_page_token(state: PageState) -> str:
    """An opaque, URL-safe page token (base64url, no ``/``, no padding) for ``state``."""
    query = state.query
    payload = [_TOKEN_VERSION, state.kind[0], None if state.cursor is None else list(state.cursor),
               query.begin, query.end, query.ascending, query.limit,
               [list(pair) for pair in query.filters], state.domain]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    packed = zlib.compress(raw, 9)
    body = b"z" + packed if len(packed) < len(raw) else b"j" + raw
    return base64.urlsafe_b64encode(body).rstrip(b"=").decode("ascii")


def decode_page_token(token: str) -> PageState:
    """The state a token of :func:`encode_page_token` stands for.

    :raises BadRequest: ``invalid page token`` for anything garbled, truncated or not ours.
    """
    try:
        if not isinstance(token, str) or not _TOKEN_TEXT.fullmatch(token):
            raise ValueError("not base64url")
        body = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        if body[:1] == b"z":
            inflater = zlib.decompressobj()
            raw = inflater.decompress(body[1:], _RAW_MAX)
            if not inflater.eof or inflater.unconsumed_tail or inflater.unused_data:
                raise ValueError("truncated or oversized")
        elif body[:1] == b"j":
            raw = body[1:]
        else:
            raise ValueError("unknown format")
        payload = json.loads(raw.decode("utf-8"))
        version, kind, cursor, begin, end, ascending, limit, filters, domain = payload
        if version != _TOKEN_VERSION or kind not in [k[0] for k in _KINDS] or not isinstance(domain, str):
            raise ValueError("not ours")
        if cursor is not None:
            if not (isinstance(cursor, list) and len(cursor) == 2 and all(_number(c, False) for c in cursor)):
                raise ValueError("bad cursor")
            cursor = (float(cursor[0]), float(cursor[1]))
        if not (isinstance(ascending, bool)
                and isinstance(filters, list)
                and all(isinstance(f, list) and len(f) == 2 and all(isinstance(s, str) for s in f) for f in filters)):
            raise ValueError("bad query")
        query = EventQuery(begin=begin, end=end, ascending=ascending, limit=limit,
                           filters=tuple((field, text) for field, text in filters))
    except (ValueError, TypeError, OverflowError, binascii.Error, zlib.error, RecursionError, BadRequest):
        raise BadRequest("invalid page token") from None
    return PageState(query, next(k for k in _KINDS if k[0] == kind), cursor, domain)


def _beside(entry: _Entry, up: bool) -> Cursor:
    # Half a step from an event: a cursor that no event sits on, so "strictly after" and
    # "strictly before" it are unambiguous whichever way the next walk goes.
    return (entry[0], entry[1] + (0.5 if up else -0.5))


def events_response(log: EventLog, query: EventQuery | None, token: str | None, base_url: str,
                    domain: str, now: float) -> dict[str, Any]:
    """The body of ``GET /v3/<domain>/events[/<token>]``: ``items`` and the four paging URLs.

    :param query: the parsed query string (ignored when ``token`` is given; None = no parameters).
    :param token: the page token from the URL's last segment, if any.
    :param base_url: the mock's own base URL, e.g. ``http://127.0.0.1:54321``.
    :param now: the mock's clock, for a query given as None.
    :raises BadRequest: ``invalid page token``.
    """
    if token is not None:
        state = decode_page_token(token)
        if state.domain.lower() != domain.lower():
            raise BadRequest("invalid page token")
    else:
        state = PageState(query if query is not None else parse_event_query({}, now), "first", None, domain)
    query, cursor = state.query, state.cursor
    backwards = state.kind in ("last", "previous")
    entries = log._entries(query, cursor, backwards)
    if backwards:
        entries.reverse()  # fetched walking back from the far end; shown in the query's order
    if entries:
        after, before = _beside(entries[-1], query.ascending), _beside(entries[0], not query.ascending)
    elif cursor is not None:
        after = before = cursor  # nothing here: both links stay where this page was
    else:
        # An empty first (or last) page means nothing in range yet: `next` restarts at the
        # beginning (an open ascending query then sees events as they arrive) and `previous`
        # points before the beginning, where nothing ever is.
        after, before = None, (-_INF, -_INF) if query.ascending else (_INF, _INF)

    def url(kind: str, at: Cursor | None) -> str:
        return f"{base_url.rstrip('/')}/v3/{domain}/events/{encode_page_token(PageState(query, kind, at, domain))}"

    return {
        "items": [event for _, _, event in entries],
        "paging": {"first": url("first", None), "last": url("last", None),
                   "next": url("next", after), "previous": url("previous", before)},
    }
