"""Events: ids, the ordered log and its indexes, paging walks and page tokens."""

from __future__ import annotations

import base64
import json
import re
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailgun_mock.base.errors import BadRequest
from mailgun_mock.base.ids import new_event_id
from mailgun_mock.lang import event_query as event_filters
from mailgun_mock.lang.event_query import LIMIT_MAX, EventQuery
from mailgun_mock.state import events
from mailgun_mock.state.events import EventLog, PageState, decode_page_token, encode_page_token, events_response
from tests.test_event_filters import DOMAIN, NOW, make_event, query

BASE = "http://127.0.0.1:5000"


def log_of(*events: dict[str, Any]) -> EventLog:
    log = EventLog()
    for event in events:
        log.append(event)
    return log


def stamps(events: list[dict[str, Any]]) -> list[float]:
    return [event["timestamp"] for event in events]


def token_of(url: str) -> str:
    prefix = f"{BASE}/v3/{DOMAIN}/events/"
    assert url.startswith(prefix)
    return url[len(prefix):]


def follow(body: dict[str, Any], link: str, log: EventLog) -> dict[str, Any]:
    return events_response(log, None, token_of(body["paging"][link]), BASE, DOMAIN, NOW)


def walk_next(log: EventLog, q: EventQuery) -> tuple[list[list[float]], dict[str, Any]]:
    """Every page from the first until the first empty one; answers the pages and that empty page."""
    body = events_response(log, q, None, BASE, DOMAIN, NOW)
    pages = []
    while body["items"]:
        pages.append(stamps(body["items"]))
        assert len(pages) < 1000
        body = follow(body, "next", log)
    return pages, body


# --------------------------------------------------------------------------- ids


def test_new_event_id_is_22_url_safe_characters_of_16_random_bytes() -> None:
    """An event id is 22 URL-safe base64 characters that decode to 16 bytes, fresh each time."""
    ids = {new_event_id() for _ in range(1000)}
    assert len(ids) == 1000
    for event_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", event_id)
        assert len(base64.urlsafe_b64decode(event_id + "==")) == 16


def test_events_query_names_have_one_home() -> None:
    """What a query is lives in lang.event_query alone; the event log does not re-export it."""
    for name in ("EventQuery", "parse_event_query", "FILTER_FIELDS", "LIMIT_DEFAULT", "LIMIT_MAX"):
        assert name in event_filters.__all__ and name not in events.__all__


# --------------------------------------------------------------------------- the log


def test_event_log_orders_out_of_order_appends_by_timestamp_then_arrival() -> None:
    """Late events take their place by timestamp; equal timestamps keep arrival order."""
    log = log_of(*(make_event(t, subject=str(n)) for n, t in enumerate([5, 1, 3, 3, 2, 5, 4])))
    assert [(e["timestamp"], e["message"]["headers"]["subject"]) for e in log] == [
        (1, "1"), (2, "4"), (3, "2"), (3, "3"), (4, "6"), (5, "0"), (5, "5"),
    ]
    assert len(log) == 7
    assert stamps(log.page(query(ascending="yes", event="delivered"))) == [1, 2, 3, 3, 4, 5, 5]


def test_event_log_refuses_events_without_a_numeric_timestamp() -> None:
    """append() raises ValueError for a missing, non-numeric or non-finite timestamp."""
    for bad in ({}, {"timestamp": "1"}, {"timestamp": float("nan")}, {"timestamp": True}):
        with pytest.raises(ValueError, match="timestamp"):
            EventLog().append(bad)


def test_event_log_page_walks_the_range_in_either_direction() -> None:
    """A page holds the events in [begin, end] (inclusive), oldest first ascending, newest first descending."""
    log = log_of(*(make_event(t) for t in range(1, 11)))
    assert stamps(log.page(query(begin="3", end="6"))) == [3, 4, 5, 6]
    assert stamps(log.page(query(begin="6", end="3"))) == [6, 5, 4, 3]
    assert stamps(log.page(query(begin="8"))) == [8, 7, 6, 5, 4, 3, 2, 1]
    assert stamps(log.page(query(begin="8", ascending="yes"))) == [8, 9, 10]
    assert stamps(log.page(query(end="3", ascending="yes"))) == [1, 2, 3]
    assert stamps(log.page(query(limit="3", ascending="yes"))) == [1, 2, 3]
    assert stamps(log.page(query(limit="3"))) == [10, 9, 8]


def test_event_log_page_single_instant_range() -> None:
    """A range whose begin equals its end holds exactly the events at that instant."""
    log = log_of(make_event(999), make_event(1000), make_event(1000), make_event(1001))
    assert stamps(log.page(query(begin="1000", end="1000"))) == [1000, 1000]
    assert stamps(log.page(query(begin="1000", end="1000", ascending="yes"))) == [1000, 1000]


def test_event_log_page_starts_strictly_after_the_cursor() -> None:
    """A cursor (timestamp, seq) of an event already returned excludes it and everything before it."""
    log = log_of(*(make_event(t) for t in (1, 2, 2, 3)))
    ascending, descending = query(ascending="yes"), query()
    assert stamps(log.page(ascending, (2.0, 1))) == [2, 3]
    assert stamps(log.page(ascending, (2.0, 2))) == [3]
    assert stamps(log.page(descending, (2.0, 2))) == [2, 1]
    assert stamps(log.page(descending, (3.0, 3))) == [2, 2, 1]
    assert stamps(log.page(ascending, (2.0, 1), backwards=True)) == [1]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"event": "failed"}, [1, 4, 7]),
        ({"event": "failed OR stored"}, [1, 2, 4, 5, 7, 8]),
        ({"event": "failed AND delivered"}, []),
        ({"event": "NOT delivered"}, [1, 2, 4, 5, 7, 8]),
        ({"event": "opened"}, []),
        ({"recipient": "User1@example.com"}, [1, 4, 7]),
        ({"recipient": "user1@example.com", "event": "failed"}, [1, 4, 7]),
        ({"recipient": "user1@example.com", "event": "delivered"}, []),
        ({"message-id": "<5@mg>"}, [5]),
        ({"event": "delivered", "subject": "s6"}, [6]),
    ],
)
def test_event_log_page_with_indexed_filters_finds_exactly_the_matches(params: dict[str, str], expected: list[int]) -> None:
    """Filters on event type, recipient and message id (served from indexes) answer the same events as a full scan."""
    kinds = ["delivered", "failed", "stored"]
    log = log_of(*(
        make_event(t, event=kinds[t % 3], recipient=f"user{t % 3}@example.com", subject=f"s{t}",
                   message_headers={"message-id": f"{t}@mg", "subject": f"s{t}"})
        for t in range(1, 10)
    ))
    q = query(ascending="yes", **params)
    assert stamps(log.page(q)) == expected
    assert [e for e in log if q.matches(e)] == log.page(q)


def test_event_log_page_on_an_indexed_filter_looks_only_at_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page filtered on an exact event type or recipient examines only the events indexed under it."""
    log = log_of(*(make_event(t, recipient=f"r{t % 100}@x.com") for t in range(20_000)))
    for t in (5, 500, 5000):
        log.append(make_event(t + 0.5, event="failed"))
    examined: list[str] = []  # one entry per (event, filter field) looked at
    real = event_filters._values  # called once per filter field per event examined

    def counting(field: str, event: Any) -> list[Any]:
        examined.append(field)
        return real(field, event)

    monkeypatch.setattr(event_filters, "_values", counting)
    assert stamps(log.page(query(event="failed OR opened", begin="100000"))) == [5000.5, 500.5, 5.5]
    assert len(examined) == 3
    examined.clear()
    assert len(log.page(query(recipient="r7@x.com", begin="100000", limit="5"))) == 5
    assert len(examined) == 5


def test_event_log_evict_before_drops_older_events_everywhere() -> None:
    """evict_before() drops events older than the timestamp, from the log and from filtered pages, and counts them."""
    log = log_of(*(make_event(t, event="failed" if t % 2 else "delivered") for t in range(1, 11)))
    assert log.evict_before(4) == 3
    assert log.evict_before(4) == 0
    assert len(log) == 7
    assert stamps(log.page(query(ascending="yes", event="failed"))) == [5, 7, 9]
    log.append(make_event(2, event="failed"))
    assert stamps(log.page(query(ascending="yes", event="failed"))) == [2, 5, 7, 9]


def test_event_log_evict_oldest_and_clear() -> None:
    """evict_oldest(n) drops the n oldest (ties by arrival); clear() drops all; both keep indexes consistent."""
    log = log_of(*(make_event(t, recipient=f"u{t % 2}@x.com") for t in (1, 2, 2, 3, 4)))
    assert log.evict_oldest(2) == 2
    assert stamps(list(log)) == [2, 3, 4]
    assert stamps(log.page(query(ascending="yes", recipient="u0@x.com"))) == [2, 4]
    assert log.evict_oldest(0) == 0
    assert log.evict_oldest(10) == 3
    assert len(log) == 0 and log.page(query(recipient="u0@x.com")) == []
    log.append(make_event(9, recipient="u0@x.com"))
    log.clear()
    assert len(log) == 0 and log.page(query(ascending="yes", recipient="u0@x.com")) == []


# --------------------------------------------------------------------------- paging


@pytest.mark.parametrize("ascending", ["yes", "no"])
@pytest.mark.parametrize("limit", ["1", "3", "7", "300"])
def test_events_response_next_walk_visits_each_match_once_in_order(ascending: str, limit: str) -> None:
    """Following next from the first page returns every matching event exactly once, in order, then an empty page."""
    log = log_of(*(make_event(t // 2, event="failed" if t % 3 else "delivered") for t in range(40)))
    q = query(ascending=ascending, begin="0" if ascending == "yes" else "100", limit=limit, event="failed")
    pages, _ = walk_next(log, q)
    expected = [e["timestamp"] for e in log if e["event"] == "failed"]
    assert [t for page in pages for t in page] == (expected if ascending == "yes" else expected[::-1])
    assert all(len(page) <= int(limit) for page in pages)


def test_events_response_pages_always_carry_four_links() -> None:
    """Every page, empty ones included, has first, last, next and previous URLs under /v3/<domain>/events/."""
    for log in (EventLog(), log_of(make_event(1))):
        body = events_response(log, query(), None, BASE + "/", DOMAIN, NOW)
        assert set(body["paging"]) == {"first", "last", "next", "previous"}
        for url in body["paging"].values():
            assert re.fullmatch(re.escape(f"{BASE}/v3/{DOMAIN}/events/") + r"[A-Za-z0-9_-]+", url)


def test_events_response_previous_goes_back_a_page() -> None:
    """previous from a page answers the page before it, in the query's order; before the first it is empty."""
    log = log_of(*(make_event(t) for t in range(1, 11)))
    first = events_response(log, query(ascending="yes", limit="3"), None, BASE, DOMAIN, NOW)
    second = follow(first, "next", log)
    third = follow(second, "next", log)
    assert stamps(third["items"]) == [7, 8, 9]
    assert stamps(follow(third, "previous", log)["items"]) == [4, 5, 6]
    assert stamps(follow(follow(third, "previous", log), "previous", log)["items"]) == [1, 2, 3]
    assert follow(first, "previous", log)["items"] == []
    assert stamps(follow(follow(first, "previous", log), "next", log)["items"]) == [1, 2, 3]


def test_events_response_previous_of_the_final_empty_page_returns_the_last_events() -> None:
    """After next runs dry, previous answers the last page again, its final event included."""
    log = log_of(*(make_event(t) for t in range(1, 8)))
    for ascending, expected in (("yes", [5, 6, 7]), ("no", [3, 2, 1])):
        _, empty = walk_next(log, query(ascending=ascending, begin="0" if ascending == "yes" else "100", limit="3"))
        assert stamps(follow(empty, "previous", log)["items"]) == expected
        assert follow(empty, "next", log)["items"] == []


def test_events_response_first_and_last_span_the_range() -> None:
    """first starts the range from its beginning; last holds its final events, shown in the query's order."""
    log = log_of(*(make_event(t) for t in range(1, 11)))
    ascending = events_response(log, query(ascending="yes", limit="4"), None, BASE, DOMAIN, NOW)
    assert stamps(follow(ascending, "last", log)["items"]) == [7, 8, 9, 10]
    assert stamps(follow(follow(ascending, "next", log), "first", log)["items"]) == [1, 2, 3, 4]
    descending = events_response(log, query(begin="8", end="2", limit="4"), None, BASE, DOMAIN, NOW)
    assert stamps(descending["items"]) == [8, 7, 6, 5]
    last = follow(descending, "last", log)
    assert stamps(last["items"]) == [5, 4, 3, 2]
    assert stamps(follow(last, "previous", log)["items"]) == [8, 7, 6]
    assert follow(last, "next", log)["items"] == []


def test_events_response_open_ascending_query_sees_new_events_on_next() -> None:
    """An ascending query with no end keeps answering events that arrive between two next calls, each once."""
    log = log_of(make_event(1), make_event(2))
    body = events_response(log, query(ascending="yes", limit="5"), None, BASE, DOMAIN, NOW)
    assert stamps(body["items"]) == [1, 2]
    empty = follow(body, "next", log)
    assert empty["items"] == []
    log.append(make_event(3))
    log.append(make_event(4))
    again = follow(empty, "next", log)
    assert stamps(again["items"]) == [3, 4]
    assert follow(again, "next", log)["items"] == []
    assert stamps(follow(body, "next", log)["items"]) == [3, 4]


def test_events_response_empty_first_page_next_waits_for_new_events() -> None:
    """When nothing matches yet, next of the empty first page answers events once they arrive; previous stays empty."""
    log = EventLog()
    body = events_response(log, query(ascending="yes", event="stored"), None, BASE, DOMAIN, NOW)
    log.append(make_event(5, event="stored", recipient=None))
    log.append(make_event(6, event="delivered"))
    assert stamps(follow(body, "next", log)["items"]) == [5]
    assert follow(body, "previous", log)["items"] == []
    assert stamps(follow(body, "last", log)["items"]) == [5]


def test_events_response_descending_default_query_ignores_later_events() -> None:
    """The default query pages back from the moment it was made: events newer than that never show up in it."""
    log = log_of(make_event(NOW - 10), make_event(NOW - 5))
    body = events_response(log, None, None, BASE, DOMAIN, NOW)
    assert stamps(body["items"]) == [NOW - 5, NOW - 10]
    log.append(make_event(NOW + 1))
    assert stamps(follow(body, "first", log)["items"]) == [NOW - 5, NOW - 10]
    assert follow(body, "next", log)["items"] == []


def test_events_response_refuses_tokens_from_another_domain_or_garbled() -> None:
    """A token is good only for the domain it was issued on; anything else is 'invalid page token'."""
    log = log_of(make_event(1))
    body = events_response(log, query(), None, BASE, DOMAIN, NOW)
    token = token_of(body["paging"]["next"])
    with pytest.raises(BadRequest, match="^invalid page token$"):
        events_response(log, None, token, BASE, "other.example.com", NOW)
    assert events_response(log, None, token, BASE, DOMAIN.upper(), NOW)["items"] == []
    with pytest.raises(BadRequest, match="^invalid page token$"):
        events_response(log, None, token[:-5], BASE, DOMAIN, NOW)


# --------------------------------------------------------------------------- tokens


def test_page_token_round_trips_everything_a_page_needs() -> None:
    """A token brings back the query (range, direction, limit, filters), the page kind, the cursor and the domain."""
    q = query(begin="Fri, 3 May 2013 09:00:00 -0000", end="1000", limit="42",
              subject=['"Hello there" OR (a AND NOT b)', "x"], size=">10 <99")
    for kind, cursor in (("first", None), ("last", None), ("next", (1367571600.5, 7.5)), ("previous", (float("inf"),) * 2)):
        state = PageState(q, kind, cursor, DOMAIN)
        token = encode_page_token(state)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token), "no '/', '+' or '=' in a token"
        assert decode_page_token(token) == state
        assert decode_page_token(token).query.matches(make_event(1100, subject="Hello there x", message_size=50))


def test_page_token_stays_short_for_long_filters() -> None:
    """Repetitive long filters are compressed, so the token is shorter than the query text."""
    q = query(subject=" OR ".join(f"subject-{n}" for n in range(100)))
    token = encode_page_token(PageState(q, "next", (1.0, 2.5), DOMAIN))
    assert len(token) < len(q.filters[0][1]) / 2
    assert decode_page_token(token).query == q


def _raw_token(payload: Any, tag: bytes = b"j") -> str:
    body = json.dumps(payload).encode()
    body = zlib.compress(body) if tag == b"z" else body
    return base64.urlsafe_b64encode(tag + body).rstrip(b"=").decode()


GOOD_PAYLOAD = [1, "n", [1.0, 2.5], 1.0, None, True, 10, [["event", "failed"]], DOMAIN]


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "abc/def",
        "A",
        "eyJhIjpmYWxzZX0",  # base64 of a foreign JSON object
        "W3siYSI6IGZhbHNlLC",  # the start of a real Mailgun token
        _raw_token(GOOD_PAYLOAD, b"x"),
        _raw_token(GOOD_PAYLOAD, b"z")[:-4],
        _raw_token(GOOD_PAYLOAD[:-1]),
        _raw_token([2, *GOOD_PAYLOAD[1:]]),
        _raw_token([1, "q", *GOOD_PAYLOAD[2:]]),
        _raw_token([1, "n", [1.0], *GOOD_PAYLOAD[3:]]),
        _raw_token([1, "n", [1.0, "x"], *GOOD_PAYLOAD[3:]]),
        _raw_token([*GOOD_PAYLOAD[:3], "yesterday", *GOOD_PAYLOAD[4:]]),
        _raw_token([*GOOD_PAYLOAD[:6], 301, *GOOD_PAYLOAD[7:]]),
        _raw_token([*GOOD_PAYLOAD[:6], True, *GOOD_PAYLOAD[7:]]),
        _raw_token([*GOOD_PAYLOAD[:7], [["event", "(failed"]], DOMAIN]),
        _raw_token([*GOOD_PAYLOAD[:7], [["colour", "red"]], DOMAIN]),
        _raw_token([1, "n", None, 2000.0, 1000.0, True, 10, [], DOMAIN]),
        _raw_token([1, "n", [10**400, 1], *GOOD_PAYLOAD[3:]]),
        _raw_token([*GOOD_PAYLOAD[:3], 10**400, *GOOD_PAYLOAD[4:]]),
        _raw_token([*GOOD_PAYLOAD[:6], 10**400, *GOOD_PAYLOAD[7:]]),
        base64.urlsafe_b64encode(b"z" + zlib.compress(b"[" * 100000)).rstrip(b"=").decode(),
        base64.urlsafe_b64encode(b"z" + zlib.compress(b" " * 2_000_000)).rstrip(b"=").decode(),
    ],
)
def test_decode_page_token_refuses_garbage(token: str) -> None:
    """Garbled, truncated, foreign or inconsistent tokens are a 400 'invalid page token', never another error."""
    with pytest.raises(BadRequest, match="^invalid page token$"):
        decode_page_token(token)


def test_decode_page_token_accepts_a_hand_made_good_payload() -> None:
    """The garbage cases above differ from a valid token by one thing each: this one decodes."""
    state = decode_page_token(_raw_token(GOOD_PAYLOAD))
    assert (state.kind, state.cursor, state.domain, state.query.limit) == ("next", (1.0, 2.5), DOMAIN, 10)


# --------------------------------------------------------------------------- properties

@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(alphabet="ABCDEFabcdef0123456789_-", max_size=120),
                 st.binary(max_size=80).map(lambda b: base64.urlsafe_b64encode(b"z" + b).decode().rstrip("="))))
def test_decode_page_token_only_ever_raises_bad_request(token: str) -> None:
    """Random text, random base64url and random 'compressed' payloads decode or raise BadRequest, nothing else."""
    try:
        decode_page_token(token)
    except BadRequest as exc:
        assert exc.message == "invalid page token"


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(JSON_VALUES, min_size=9, max_size=9), st.sampled_from([b"j", b"z"]))
def test_decode_page_token_of_random_payloads_only_ever_raises_bad_request(payload: list[Any], tag: bytes) -> None:
    """Well-encoded tokens carrying random JSON in the right places decode to a usable state or raise BadRequest."""
    payload[0] = 1
    try:
        state = decode_page_token(_raw_token(payload, tag))
    except BadRequest as exc:
        assert exc.message == "invalid page token"
        return
    events_response(log_of(make_event(5)), None, _raw_token(payload, tag), BASE, state.domain, NOW)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from(["delivered", "failed", "stored"])), max_size=40),
    st.integers(1, 6),
    st.booleans(),
    st.sampled_from([None, "failed", "NOT failed", "failed OR stored"]),
)
def test_events_response_next_walk_property(events: list[tuple[int, str]], limit: int, ascending: bool,
                                            event_filter: str | None) -> None:
    """For any arrival order, ties and page size, walking next yields the sorted matches exactly once."""
    log = log_of(*(make_event(t, event=kind, subject=str(n)) for n, (t, kind) in enumerate(events)))
    params = {"ascending": "yes" if ascending else "no", "limit": str(limit), "begin": "0" if ascending else "100"}
    if event_filter:
        params["event"] = event_filter
    q = query(**params)
    expected = [e["message"]["headers"]["subject"] for e in log if q.matches(e)]
    body = events_response(log, q, None, BASE, DOMAIN, NOW)
    seen = []
    while body["items"]:
        seen += [e["message"]["headers"]["subject"] for e in body["items"]]
        body = follow(body, "next", log)
    assert seen == (expected if ascending else expected[::-1])
    assert len(log) == len(events) and LIMIT_MAX == 300
