"""Event queries: the query string, the filter fields and language, matching one event, the index keys."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailgun_mock.base.errors import BadRequest
from mailgun_mock.base.ids import new_event_id
from mailgun_mock.lang.event_query import (
    FILTER_FIELDS,
    INDEXED_FIELDS,
    EventQuery,
    index_key,
    is_number,
    parse_event_query,
)

NOW = 1_700_000_000.0
DOMAIN = "mg.example.com"


def make_event(
    timestamp: float,
    event: str = "delivered",
    recipient: str | None = "bob@example.com",
    subject: str = "Hello",
    **extra: Any,
) -> dict[str, Any]:
    """An event in Mailgun's shape; ``extra`` overrides top-level keys or (``message_*``) message keys."""
    message: dict[str, Any] = {
        "headers": {
            "to": "Bob <bob@example.com>",
            "message-id": f"{timestamp}.1@{DOMAIN}",
            "from": "Alice Sender <alice@example.org>",
            "subject": subject,
        },
        "attachments": [],
        "recipients": ["bob@example.com"],
        "size": 586,
    }
    for key in [k for k in extra if k.startswith("message_")]:
        message[key[len("message_"):].replace("_", "-")] = extra.pop(key)
    data: dict[str, Any] = {
        "event": event,
        "id": new_event_id(),
        "timestamp": timestamp,
        "log-level": "info",
        "message": message,
        "tags": [],
        "user-variables": {},
    }
    if recipient is not None:
        data["recipient"] = recipient
        data["recipient-domain"] = recipient.rpartition("@")[2]
    data.update(extra)
    return data


def query(**params: Any) -> EventQuery:
    return parse_event_query(params, NOW)


# --------------------------------------------------------------------------- query parsing


def test_parse_event_query_defaults_to_descending_from_now() -> None:
    """No parameters: descending from now, no end (down to the retention horizon), 100 per page, no filters."""
    assert query() == EventQuery(begin=NOW, end=None, ascending=False, limit=100, filters=())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fri, 3 May 2013 09:00:00 -0000", 1367571600.0),
        ("Mon, 2 Jan 2006 15:04:05 -0700", 1136239445.0),
        ("Fri, 03 May 2013 09:00:00 GMT", 1367571600.0),
        ("1367571600", 1367571600.0),
        ("1529692198.691758", 1529692198.691758),
    ],
)
def test_parse_event_query_reads_rfc2822_and_epoch_dates(text: str, expected: float) -> None:
    """begin and end take RFC 2822 dates (any zone) or epoch seconds, integer or fractional."""
    assert query(begin=text, ascending="yes").begin == pytest.approx(expected)
    assert query(end=text, ascending="no").end == pytest.approx(expected)


@pytest.mark.parametrize("value", ["yesterday", "2013-05-03", "-5", "1e9", "Fri, 3 May 99999 09:00:00 -0000", ""])
@pytest.mark.parametrize("name", ["begin", "end"])
def test_parse_event_query_refuses_bad_dates_naming_parameter_and_value(name: str, value: str) -> None:
    """An unreadable begin or end is a 400 that names the parameter and quotes the value."""
    with pytest.raises(BadRequest, match=f"Invalid '{name}' parameter {re.escape(repr(value))}: expected an RFC 2822"):
        query(**{name: value})


@pytest.mark.parametrize(("text", "ascending"), [("yes", True), ("no", False), ("true", True), ("FALSE", False)])
def test_parse_event_query_reads_ascending(text: str, ascending: bool) -> None:
    """ascending takes yes/no (and true/false, any case)."""
    assert query(ascending=text, begin="1000").ascending is ascending


def test_parse_event_query_refuses_bad_ascending() -> None:
    """Any other ascending value is a 400 naming the parameter."""
    with pytest.raises(BadRequest, match="Invalid 'ascending' parameter 'maybe': expected 'yes' or 'no'"):
        query(ascending="maybe")


def test_parse_event_query_takes_direction_from_begin_and_end() -> None:
    """With both bounds, an end before the begin means descending and an end after it ascending."""
    assert query(begin="2000", end="1000") == EventQuery(begin=2000.0, end=1000.0, ascending=False)
    assert query(begin="1000", end="2000") == EventQuery(begin=1000.0, end=2000.0, ascending=True)
    assert query(begin="1000", end="2000", ascending="yes").ascending is True


@pytest.mark.parametrize(("begin", "end", "ascending"), [("1000", "2000", "no"), ("2000", "1000", "yes")])
def test_parse_event_query_refuses_ascending_that_contradicts_the_range(begin: str, end: str, ascending: str) -> None:
    """An ascending flag that disagrees with begin/end is a 400."""
    with pytest.raises(BadRequest, match="The 'ascending' parameter contradicts 'begin' and 'end'"):
        query(begin=begin, end=end, ascending=ascending)


def test_parse_event_query_single_instant_range() -> None:
    """begin equal to end is a one-instant range in either direction, descending unless asked."""
    assert query(begin="1000", end="1000") == EventQuery(begin=1000.0, end=1000.0, ascending=False)
    assert query(begin="1000", end="1000", ascending="yes").ascending is True


def test_parse_event_query_open_ranges() -> None:
    """ascending=yes alone starts at the oldest event; a lone begin pages down; a lone past end pages down from now."""
    assert query(ascending="yes") == EventQuery(begin=None, end=None, ascending=True)
    assert query(begin="1000") == EventQuery(begin=1000.0, end=None, ascending=False)
    assert query(end="1000") == EventQuery(begin=NOW, end=1000.0, ascending=False)
    assert query(end="1000", ascending="yes") == EventQuery(begin=None, end=1000.0, ascending=True)


@pytest.mark.parametrize(("text", "limit"), [("1", 1), ("300", 300), (" 42 ", 42)])
def test_parse_event_query_reads_limit(text: str, limit: int) -> None:
    """limit takes an integer from 1 to 300."""
    assert query(limit=text).limit == limit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("301", "The 'limit' parameter can't be larger than 300"),
        ("0", "The 'limit' parameter must be at least 1"),
        ("-3", "The 'limit' parameter must be at least 1"),
        ("ten", "Invalid 'limit' parameter 'ten': expected an integer"),
        ("1.5", "Invalid 'limit' parameter '1.5': expected an integer"),
    ],
)
def test_parse_event_query_refuses_bad_limits(text: str, message: str) -> None:
    """A limit over 300, under 1, or not an integer is a 400 saying which."""
    with pytest.raises(BadRequest, match=re.escape(message)):
        query(limit=text)


def test_parse_event_query_ignores_pretty_unknown_and_empty_parameters() -> None:
    """pretty, parameters Mailgun does not filter on, and empty filter values change nothing."""
    assert query(pretty="no", page="next", address="x", subject="  ", tags="") == query()


def test_parse_event_query_keeps_repeated_filters_and_reads_getlist() -> None:
    """A repeated filter keeps every expression, read from lists or from a MultiDict-like getlist."""

    class MultiDict:
        def __init__(self, pairs: list[tuple[str, str]]) -> None:
            self.pairs = pairs

        def getlist(self, name: str) -> list[str]:
            return [v for k, v in self.pairs if k == name]

    expected = (("subject", "Hello"), ("subject", "World"))
    assert query(subject=["Hello", "World"]).filters == expected
    assert parse_event_query(MultiDict([("subject", "Hello"), ("limit", "5"), ("subject", "World")]), NOW).filters == expected


def test_event_query_validates_when_built_directly() -> None:
    """Building an EventQuery by hand checks the limit, the field names and the expressions."""
    with pytest.raises(BadRequest, match="limit"):
        EventQuery(limit=0)
    with pytest.raises(BadRequest, match="Unknown filter field 'colour'"):
        EventQuery(filters=(("colour", "red"),))
    with pytest.raises(BadRequest, match="unbalanced parentheses"):
        EventQuery(filters=(("subject", "(a"),))


# --------------------------------------------------------------------------- filters

# (field, expression, event overrides, matches)
FIELD_TABLE: list[tuple[str, str, dict[str, Any], bool]] = [
    ("event", "delivered", {}, True),
    ("event", "DELIVERED", {}, True),
    ("event", "deliver", {}, False),
    ("event", "rejected OR failed", {"event": "failed"}, True),
    ("event", "rejected OR failed", {}, False),
    ("recipient", "BOB@Example.com", {}, True),
    ("recipient", "bob", {}, False),
    ("recipient", "bob@example.com", {"recipient": None}, False),
    ("recipients", "carol@example.com", {"message_recipients": ["bob@example.com", "Carol@example.com"]}, True),
    ("recipients", "dave@example.com", {"message_recipients": ["bob@example.com"]}, False),
    ("from", "alice@example.org", {}, True),
    ("from", "ALICE", {}, True),
    ("from", "mallory", {}, False),
    ("to", "bob@example.com", {}, True),
    ("to", "carol", {}, False),
    ("subject", "hello", {"subject": "Say Hello World"}, True),
    ("subject", "goodbye", {"subject": "Say Hello World"}, False),
    ("message-id", "20180622.1@ex.org", {"message_headers": {"message-id": "20180622.1@ex.org"}}, True),
    ("message-id", "<20180622.1@EX.org>", {"message_headers": {"message-id": "20180622.1@ex.org"}}, True),
    ("message-id", "20180622", {"message_headers": {"message-id": "20180622.1@ex.org"}}, False),
    ("attachment", "report", {"message_attachments": [{"filename": "Report-Q1.pdf", "size": 3}]}, True),
    ("attachment", "invoice", {"message_attachments": [{"filename": "Report-Q1.pdf", "size": 3}]}, False),
    ("size", ">500", {}, True),
    ("size", "<500", {}, False),
    ("size", ">500 <600", {}, True),
    ("size", ">600 OR <100", {}, False),
    ("size", "586", {}, True),
    ("size", ">1", {"message_size": None}, False),
    ("tags", "newsletter", {"tags": ["Welcome", "NEWSLETTER"]}, True),
    ("tags", "news", {"tags": ["newsletter"]}, False),
    ("tags", "welcome newsletter", {"tags": ["welcome", "newsletter"]}, True),
    ("severity", "permanent", {"event": "failed", "severity": "permanent"}, True),
    ("severity", "temporary", {"event": "failed", "severity": "permanent"}, False),
    ("severity", "permanent", {}, False),
    ("list", "devs@example.com", {"mailing-list": {"address": "Devs@example.com"}}, True),
    ("list", "devs@example.com", {}, False),
]


@pytest.mark.parametrize(("field", "expression", "overrides", "expected"), FIELD_TABLE)
def test_event_query_filters_each_field(field: str, expression: str, overrides: dict[str, Any], expected: bool) -> None:
    """Exact fields compare whole values ignoring case, text fields look for the term inside, size compares numbers."""
    assert query(**{field: expression}, begin="2000").matches(make_event(1000, **overrides)) is expected


SUBJECTS = {
    "hello rachel": "Hello Rachel",
    "hello monica": "Hello Monica",
    "farewell monica": "Farewell Monica",
    "farewell rachel": "Farewell Rachel",
    "hello-world": "Hello-World, good night",
}

# (subject expression, the subjects it matches)
LANGUAGE_TABLE = [
    ("hello", {"hello rachel", "hello monica", "hello-world"}),
    ("hello monica", {"hello monica"}),
    ("hello AND monica", {"hello monica"}),
    ("rachel OR monica", {"hello rachel", "hello monica", "farewell monica", "farewell rachel"}),
    ("NOT hello", {"farewell monica", "farewell rachel"}),
    ("NOT NOT hello", {"hello rachel", "hello monica", "hello-world"}),
    ('"hello monica"', {"hello monica"}),
    ('"monica hello"', set()),
    ('"world, good"', {"hello-world"}),
    ("(Hello AND NOT Rachel) OR (Farewell AND Monica)", {"hello monica", "hello-world", "farewell monica"}),
    ("hello rachel OR farewell", {"hello rachel", "farewell monica", "farewell rachel"}),
    ("hello (rachel OR monica)", {"hello rachel", "hello monica"}),
    ("NOT (hello OR farewell)", set()),
    ("((((monica))))", {"hello monica", "farewell monica"}),
    ("or and not", set()),
]


@pytest.mark.parametrize(("expression", "expected"), LANGUAGE_TABLE)
def test_filter_language_combines_terms(expression: str, expected: set[str]) -> None:
    """Juxtaposed terms AND, OR binds looser than AND, NOT negates, quotes make phrases, parentheses group."""
    q = query(subject=expression, begin="2000")
    assert {name for name, subject in SUBJECTS.items() if q.matches(make_event(1000, subject=subject))} == expected


def test_filter_language_repeated_field_ands_expressions() -> None:
    """subject=hello&subject=monica matches only subjects with both."""
    q = query(subject=["hello", "monica"], begin="2000")
    assert [name for name, s in SUBJECTS.items() if q.matches(make_event(1000, subject=s))] == ["hello monica"]


def test_filter_language_ands_across_fields() -> None:
    """Filters on different fields must all match."""
    q = query(event="failed", severity="permanent", begin="2000")
    assert q.matches(make_event(1000, event="failed", severity="permanent"))
    assert not q.matches(make_event(1000, event="failed", severity="temporary"))
    assert not q.matches(make_event(1000, event="delivered", severity="permanent"))


@pytest.mark.parametrize(
    ("field", "expression", "fragment"),
    [
        ("subject", "(hello", "unbalanced parentheses: missing ')'"),
        ("subject", "hello)", "unbalanced parentheses: unexpected ')'"),
        ("subject", ")", "unbalanced parentheses: unexpected ')'"),
        ("subject", "(hello))", "unbalanced parentheses: unexpected ')'"),
        ("subject", "()", "empty parentheses"),
        ("subject", '"hello', "unbalanced quotes"),
        ("subject", 'a "b" "c', "unbalanced quotes"),
        ("subject", "hello AND", "'AND' must be followed by a term"),
        ("subject", "hello OR", "'OR' must be followed by a term"),
        ("subject", "NOT", "'NOT' must be followed by a term"),
        ("subject", "hello AND OR x", "'AND' must be followed by a term"),
        ("subject", "(x OR)", "'OR' must be followed by a term"),
        ("subject", "OR hello", "'OR' needs a term before it"),
        ("subject", "AND", "'AND' needs a term before it"),
        ("subject", ">10000", "ranges like >10000 apply to numeric fields only (size)"),
        ("event", "<5", "ranges like <5 apply to numeric fields only (size)"),
        ("size", "big", "size takes numbers and ranges like >10000, got 'big'"),
        ("size", ">10k", "size takes numbers"),
        ("subject", "(" * 17 + "x" + ")" * 17, "parentheses nested deeper than 16"),
        ("subject", "x" * 4097, "at most 4096"),
    ],
)
def test_filter_language_refuses_malformed_expressions(field: str, expression: str, fragment: str) -> None:
    """A malformed expression is a 400 naming the field and saying what is wrong."""
    with pytest.raises(BadRequest, match=f"filter {field}") as caught:
        query(**{field: expression})
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"timestamp": "soon"},
        {"timestamp": 1000, "message": None, "tags": "not-a-list", "recipient": 7},
        {"timestamp": 1000, "message": {"headers": "x", "attachments": [None, 1, {"filename": 3}], "size": "big"}},
        {"timestamp": 1000, "message": {"headers": {"subject": None}, "recipients": [None]}, "mailing-list": []},
    ],
)
def test_event_query_matches_never_raises_on_odd_events(event: dict[str, Any]) -> None:
    """Missing keys and wrong types make a positive term miss (and NOT of it hold) instead of raising."""
    fields = ["event", "recipient", "recipients", "from", "to", "subject", "message-id", "attachment", "tags", "severity", "list"]
    assert not query(begin="2000", **{field: "x" for field in fields}, size=">1").matches(event)
    negated = query(begin="2000", **{field: "NOT x" for field in fields}, size="NOT >1")
    assert negated.matches(event) is ("timestamp" in event and event["timestamp"] == 1000)


def test_event_query_matches_checks_the_time_range() -> None:
    """matches() also requires the event's timestamp to be inside [begin, end]."""
    q = query(begin="1000", end="2000")
    assert [q.matches(make_event(t)) for t in (999.9, 1000, 2000, 2000.1)] == [False, True, True, False]


# --------------------------------------------------------------------------- what the log uses


@pytest.mark.parametrize(
    ("value", "finite", "expected"),
    [
        (1, True, True), (1.5, True, True), (-3, True, True), (0, True, True),
        (True, True, False), ("1", True, False), (None, True, False),
        (float("nan"), True, False), (float("inf"), True, False), (10**400, True, False),
        (float("inf"), False, True), (-float("inf"), False, True), (float("nan"), False, False),
        (True, False, False), (10**400, False, False),
    ],
)
def test_is_number_accepts_real_numbers_only(value: Any, finite: bool, expected: bool) -> None:
    """Ints and floats count; bools, strings, NaN and ints too big for a float never do; infinities only if not finite."""
    assert is_number(value, finite) is expected


def test_index_key_is_the_first_value_as_filters_compare_it() -> None:
    """An event is indexed under its lower-cased type, recipient and bracket-free message id; None when missing."""
    event = make_event(1, event="Failed", recipient="BOB@Example.com", message_headers={"message-id": "<A.1@mg>"})
    assert [index_key(field, event) for field in INDEXED_FIELDS] == ["failed", "bob@example.com", "a.1@mg"]
    assert index_key("recipient", make_event(1, recipient=None)) is None
    assert index_key("event", {"event": 7}) is None
    assert set(INDEXED_FIELDS) <= set(FILTER_FIELDS)


@pytest.mark.parametrize(
    ("params", "field", "expected"),
    [
        ({"event": "failed"}, "event", {"failed"}),
        ({"event": "FAILED OR stored"}, "event", {"failed", "stored"}),
        ({"event": ["failed OR stored", "stored"]}, "event", {"stored"}),
        ({"event": "failed stored"}, "event", set()),
        ({"event": "failed OR NOT stored"}, "event", None),
        ({"event": "NOT failed"}, "event", None),
        ({"event": "failed"}, "recipient", None),
        ({"message-id": "<A.1@mg>"}, "message-id", {"a.1@mg"}),
        ({"subject": "hello"}, "event", None),
    ],
)
def test_event_query_index_keys_bound_only_by_exact_terms(params: dict[str, Any], field: str,
                                                          expected: set[str] | None) -> None:
    """Exact terms joined by OR bound a field's index keys, AND intersects them, NOT or no filter leaves them open."""
    assert query(**params).index_keys(field) == (None if expected is None else frozenset(expected))


def test_event_query_passes_filters_ignores_the_time_range() -> None:
    """passes_filters() checks the filters only; matches() also checks the range."""
    q = query(event="delivered", begin="2000")
    inside, outside = make_event(1000), make_event(5000)
    assert (q.matches(inside), q.passes_filters(inside)) == (True, True)
    assert (q.matches(outside), q.passes_filters(outside)) == (False, True)
    assert not q.passes_filters(make_event(1000, event="failed"))


# --------------------------------------------------------------------------- properties

PARAM_NAMES = ["begin", "end", "ascending", "limit", "pretty", "event", "subject", "size", "tags", "recipient", "x"]
EXPRESSION_TEXT = st.lists(st.sampled_from([*'ab<>()" 019.', "AND", "OR", "NOT", " AND ", " OR ", "NOT "]), max_size=20).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(PARAM_NAMES), st.one_of(st.text(max_size=40), EXPRESSION_TEXT,
                                                                st.lists(EXPRESSION_TEXT, max_size=3))))
def test_parse_event_query_only_ever_raises_bad_request(params: dict[str, Any]) -> None:
    """Whatever the parameters, parsing succeeds or raises BadRequest; a parsed query matches any event without raising."""
    try:
        q = parse_event_query(params, NOW)
    except BadRequest as exc:
        assert exc.message
        return
    q.matches(make_event(NOW - 1, subject="a b", tags=["a"]))
    q.matches({"timestamp": NOW - 1})
