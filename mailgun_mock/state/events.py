"""Mailgun's Events API: one domain's event log and its paging (pure).

An event is a plain dict in Mailgun's JSON shape (``event``, ``id``, float ``timestamp``,
``recipient``, ``message.headers``…). :class:`EventLog` keeps one domain's events in
(timestamp, arrival) order with indexes by event type, recipient and message id;
:func:`events_response` answers one page with its ``first``/``last``/``next``/``previous`` URLs,
whose last path segment is an opaque page token (:func:`encode_page_token`).

What a query is (``EventQuery``, ``parse_event_query``, the filter fields and the filter
language) lives in :mod:`mailgun_mock.lang.event_query`.
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
import re
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from ..base.errors import BadRequest
from ..lang.event_query import (
    INDEXED_FIELDS,
    EventQuery,
    index_key,
    is_number,
    parse_event_query,
)

__all__ = [
    "Cursor",
    "EventLog",
    "PageState",
    "decode_page_token",
    "encode_page_token",
    "events_response",
]

Cursor = tuple[float, float]
"""A position in a log's order: ``(timestamp, seq)``; pages start strictly after it."""
_INF = math.inf


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
        self._by: dict[str, dict[str, _Index]] = {field: {} for field in INDEXED_FIELDS}
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
        if not is_number(stamp):
            raise ValueError(f"an event needs a finite numeric timestamp, got {stamp!r}")
        stamp, seq = float(stamp), next(self._seq)
        self._all.insert(stamp, seq, event)
        for field, index in self._by.items():
            key = index_key(field, event)
            if key is not None:
                index.setdefault(key, _Index()).insert(stamp, seq, event)

    def clear(self) -> None:
        """Forget every event."""
        self._all = _Index()
        self._by = {field: {} for field in INDEXED_FIELDS}

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
            for key in {index_key(field, event) for event in gone} - {None}:
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
        return list(itertools.islice((entry for entry in stream if query.passes_filters(entry[2])), query.limit))

    def _sources(self, query: EventQuery) -> list[_Index]:
        """The smallest set of indexes that holds every event the query can match."""
        best, cost = [self._all], len(self._all)
        for field, indexes in self._by.items():
            keys = query.index_keys(field)
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
            if not (isinstance(cursor, list) and len(cursor) == 2 and all(is_number(c, False) for c in cursor)):
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
        return f"{base_url.rstrip('/')}/v3/{quote(domain, safe='')}/events/{encode_page_token(PageState(query, kind, at, domain))}"

    return {
        "items": [event for _, _, event in entries],
        "paging": {"first": url("first", None), "last": url("last", None),
                   "next": url("next", after), "previous": url("previous", before)},
    }
