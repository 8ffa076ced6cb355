"""Property-based fuzzing: the route language, the routes API, inbound mail and the Events API never fail on odd input."""

from __future__ import annotations

import base64
import io
import json
import pathlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.base.errors import ExpressionError
from mailgun_mock.http.app import create_app
from mailgun_mock.lang.actions import parse_action
from mailgun_mock.lang.event_query import FILTER_FIELDS
from mailgun_mock.lang.filters import Filter, MatchContext, MatchResult, parse_filter

FIXTURES = sorted((pathlib.Path(__file__).resolve().parent.parent / "fixtures").glob("*.eml"))
SEEDS = [path.read_bytes() for path in FIXTURES]
AUTH = {"Authorization": "Basic " + base64.b64encode(f"api:{Config().api_key}".encode()).decode()}
FAST = settings(max_examples=400, deadline=None)
SLOW = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- the grammar

# Any character but the ones that can't travel in a form or a URL (lone surrogates).
CHARS = st.characters(codec="utf-8")
TEXT = st.text(CHARS, max_size=40)
# Path segments: a "/" (even as %2F) makes an empty segment, which test_api_path_with_an_empty_segment_answers_json covers.
SEGMENT = st.text(CHARS.filter(lambda c: c != "/"), max_size=40)
# Pieces that always concatenate to a valid pattern, and pieces that may break one.
VALID_ATOMS = ["a", "Z", "é", "支", ".", ".*", ".+", r"\d+", r"\w*", "[a-z]+", "[^@]+", "([^@]+)", "@",
               r"example\.com", "(?:x|y)", "^", "$", r"\.", "-", "_", r"\s?"]
META = ["(", ")", "[", "]", "{", "}", "\\", "*", "+", "?", "|", "^", "$", ".", "(?P<", "(?P<n>", "(?P=n)",
        "(?", "{99999}", "{2,1}", "(?R)", r"\g<0>", r"\1", r"\p{L}", r"\N{", "(?<=a+)", "(?#", "[[:alpha:]]",
        "(a+)+", "(?i", "\x00", "\x1b", "\u2028"]
HEADER_NAMES = ["subject", "From", "X-Mailgun-Sflag", "received", "to", "x-missing", "Content-Type"]
KEYWORDS = [" and ", " or ", " not ", " AND ", " Or ", "not", "and", "or"]


def literal(content: str, quote_char: str) -> str:
    """``content`` as a string literal of the route language (raw-string rules: a backslash keeps the next character)."""
    out, i = [], 0
    while i < len(content):
        c = content[i]
        if c == "\\":
            out.append(content[i:i + 2] if i + 1 < len(content) else "\\\\")
            i += 2
            continue
        out.append("\\" + c if c == quote_char else c)
        i += 1
    return quote_char + "".join(out) + quote_char


QUOTES = st.sampled_from(['"', "'"])
VALID_PATTERNS = st.lists(st.sampled_from(VALID_ATOMS), max_size=6).map("".join)
PATTERNS = st.one_of(VALID_PATTERNS, st.lists(st.sampled_from(VALID_ATOMS + META), max_size=8).map("".join),
                     st.text(CHARS.filter(lambda c: c not in "\r\n"), max_size=20))
SPACE = st.sampled_from(["", " ", "  ", "\t"])


def calls(patterns: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One filter function call, with its arguments quoted either way."""
    header = st.one_of(st.sampled_from(HEADER_NAMES), st.text(st.characters(min_codepoint=33, max_codepoint=126),
                                                               min_size=1, max_size=12))
    return st.one_of(
        st.builds(lambda p, q, s: f"match_recipient({s}{literal(p, q)}{s})", patterns, QUOTES, SPACE),
        st.builds(lambda h, p, q1, q2, s: f"match_header({literal(h, q1)},{s}{literal(p, q2)})",
                  header, patterns, QUOTES, QUOTES, SPACE),
        st.builds(lambda s: f"catch_all({s})", SPACE),
    )


def filters(patterns: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Filter expressions built from the grammar in the module docstring of ``mailgun_mock.lang.filters``."""
    return st.recursive(calls(patterns), lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} and {b}", inner, inner),
        st.builds(lambda a, b: f"{a} or {b}", inner, inner),
        st.builds(lambda a: f"not {a}", inner),
        st.builds(lambda a, s: f"({s}{a}{s})", inner, SPACE),
    ), max_leaves=8)


VALID_FILTERS = filters(VALID_PATTERNS)
URLS = st.sampled_from(["http://127.0.0.1:9/in", "https://app.example.com/hook?a=1", "http://[::1]:8/x",
                        r"http://127.0.0.1/\1", r"http://127.0.0.1/\g<user>"])
ADDRESSES = st.sampled_from(["bob@example.com", "a.b+c@sub.example.org", r"\1@example.net"])
ACTIONS = st.one_of(
    st.just("stop()"), st.just("store()"),
    st.builds(lambda u, q: f"store(notify={literal(u, q)})", URLS, QUOTES),
    st.builds(lambda ds, q: f"forward({literal(', '.join(ds), q)})", st.lists(st.one_of(URLS, ADDRESSES),
                                                                               min_size=1, max_size=3), QUOTES),
)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A text from ``base`` with a few edits: characters dropped or inserted, quotes swapped, newlines,
    regex metacharacters and keywords injected, truncation, duplication."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["drop", "insert", "swap", "flip", "newline", "meta", "keyword", "cut", "dup"]))
        at = draw(st.integers(0, len(text)))
        if op == "drop":
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
        elif op == "insert":
            text = text[:at] + draw(st.text(CHARS, min_size=1, max_size=3)) + text[at:]
        elif op == "swap":
            text = text.translate(str.maketrans("\"'", "'\""))
        elif op == "flip":  # one quote changed: strings now end early or never
            quotes = [i for i, c in enumerate(text) if c in "\"'"]
            if quotes:
                i = draw(st.sampled_from(quotes))
                text = text[:i] + ("'" if text[i] == '"' else '"') + text[i + 1:]
        elif op == "newline":
            text = text[:at] + draw(st.sampled_from(["\n", "\r", "\r\n", "\x0b", "\x85", "\u2028"])) + text[at:]
        elif op == "meta":
            text = text[:at] + draw(st.sampled_from(META)) + text[at:]
        elif op == "keyword":
            text = text[:at] + draw(st.sampled_from(KEYWORDS)) + text[at:]
        elif op == "cut":
            text = text[:at]
        else:
            text = text[:at] + text[at:at + draw(st.integers(1, 12))] + text[at:]
    return text


ANY_FILTER = st.one_of(filters(PATTERNS), mutated(filters(PATTERNS)), TEXT)
ANY_ACTION = st.one_of(ACTIONS, mutated(ACTIONS), TEXT)


class Headers:
    """A message's headers for the matcher: name lookup ignores case, every occurrence kept."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k.lower() == name.lower()]


HEADERS = st.lists(st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), TEXT), TEXT), max_size=6).map(Headers)
RECIPIENTS = st.one_of(st.emails(), TEXT, st.sampled_from(["support@example.com", "", "@", "a@b@c"]))


def outcome(result: MatchResult) -> tuple[Any, ...]:
    """What an evaluation decided, comparable across two parses."""
    return result.matched, result.captures, result.reasons, result.timed_out


# --------------------------------------------------------------------------- the parser and matcher

@FAST
@given(ANY_FILTER)
def test_parse_filter_raises_only_expression_error(text: str) -> None:
    """Grammar-built, mutated and random filters parse or raise ExpressionError, with a message, and nothing else."""
    try:
        parsed = parse_filter(text)
    except ExpressionError as exc:
        assert exc.message
    else:
        assert isinstance(parsed, Filter) and parsed.text == text


@FAST
@given(ANY_ACTION)
def test_parse_action_raises_only_expression_error(text: str) -> None:
    """Grammar-built, mutated and random actions parse or raise ExpressionError, with a message, and nothing else."""
    try:
        action = parse_action(text)
    except ExpressionError as exc:
        assert exc.message
    else:
        assert action.kind in ("forward", "store", "stop")


@FAST
@given(VALID_FILTERS)
def test_parse_filter_accepts_every_grammar_expression(text: str) -> None:
    """An expression built by the grammar from patterns that compile always parses."""
    parse_filter(text)


@FAST
@given(ACTIONS)
def test_parse_action_accepts_every_grammar_action(text: str) -> None:
    """An action built by the grammar with well-formed destinations always parses."""
    parse_action(text)


@SLOW
@given(ANY_FILTER, RECIPIENTS, HEADERS, st.booleans(), st.lists(ANY_ACTION, max_size=2))
def test_filter_evaluate_never_raises(text: str, recipient: str, headers: Headers, earlier: bool,
                                      actions: list[str]) -> None:
    """Whatever parsed, evaluating it (and filling its captures into actions) never raises, for any recipient or headers."""
    try:
        parsed = parse_filter(text)
    except ExpressionError:
        return
    result = parsed.evaluate(MatchContext(recipient, headers, earlier))
    assert isinstance(result.matched, bool)
    assert isinstance(result.explain(), str) and isinstance(result.captures, dict)
    for action in actions:
        try:
            parse_action(action).expand(result)
        except ExpressionError:
            pass


@SLOW
@given(st.one_of(VALID_FILTERS, ANY_FILTER), RECIPIENTS, HEADERS, st.booleans())
def test_parse_filter_is_deterministic(text: str, recipient: str, headers: Headers, earlier: bool) -> None:
    """Parsing the same text twice (bypassing the cache) gives filters that decide the same on the same input."""
    uncached = parse_filter.__wrapped__
    try:
        first = uncached(text)
    except ExpressionError as exc:
        with pytest.raises(ExpressionError) as again:
            uncached(text)
        assert (again.value.message, str(again.value)) == (exc.message, str(exc))
        return
    second = uncached(text)
    ctx = MatchContext(recipient, headers, earlier, timeout=1.0)
    one, two = first.evaluate(ctx), second.evaluate(ctx)
    if not (one.timed_out or two.timed_out):  # a timeout depends on the machine's load, not on the parse
        assert outcome(one) == outcome(two)


@pytest.mark.parametrize("text", ["not " * 1000 + "catch_all()", "(" * 300 + "catch_all()" + ")" * 300],
                         ids=["1000-nots", "300-parentheses"])
def test_parse_filter_deep_nesting_raises_expression_error(text: str) -> None:
    """A deeply nested filter within the 4096-character field limit is refused with ExpressionError."""
    assert len(text) <= 4096
    with pytest.raises(ExpressionError):
        parse_filter.__wrapped__(text)


def test_match_result_expand_leaves_a_huge_group_reference_unchanged() -> None:
    """A template naming a group far beyond the filter's groups is returned unchanged, whatever its length."""
    result = parse_filter('match_recipient("(.*)@")').evaluate(MatchContext("bob@example.com"))
    template = "http://127.0.0.1/\\g<" + "9" * 5000 + ">"
    assert result.expand(template) == template


# --------------------------------------------------------------------------- the HTTP API

@pytest.fixture(scope="module")
def client() -> Iterator[tuple[Backend, FlaskClient]]:
    """One backend behind Flask's test client, with the real error handlers (a bug answers 500)."""
    backend = Backend(Config())
    app = create_app(backend)
    app.testing = False  # let the app's own handler turn an exception into a 500, as the server does
    yield backend, app.test_client()
    backend.close()


def fresh(client: tuple[Backend, FlaskClient]) -> tuple[Backend, FlaskClient]:
    """The shared client, its record of server errors emptied (so one example's bug is not blamed on the next)."""
    client[0].errors.clear()
    return client


def assert_answered(reply: Any, backend: Backend) -> Any:
    """A 200, or a 4xx whose JSON body carries a ``message``; never a 5xx. Answers the JSON."""
    body = reply.get_data()
    assert reply.status_code < 500, f"{reply.status_code} {body[:300]!r}; server errors {backend.errors!r}"
    data = json.loads(body)
    if reply.status_code != 200:
        assert 400 <= reply.status_code < 500 and isinstance(data.get("message"), str), (reply.status_code, data)
    return data


PRIORITIES = st.one_of(st.integers(-2**70, 2**70).map(str), st.from_regex(r"\A[ +-]{0,3}[0-9]{1,5}[ ]?\Z"), TEXT)
OPTIONAL_FIELDS = {"description": TEXT, "priority": PRIORITIES}
FORM_BODIES = st.one_of(
    st.fixed_dictionaries({"expression": st.one_of(VALID_FILTERS, ANY_FILTER),
                           "action": st.lists(st.one_of(ACTIONS, ANY_ACTION), min_size=1, max_size=3)},
                          optional=OPTIONAL_FIELDS),
    st.fixed_dictionaries({}, optional={"expression": ANY_FILTER, "action": st.lists(ANY_ACTION, max_size=3),
                                        **OPTIONAL_FIELDS}),
)
RAW_BODIES = st.tuples(
    st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "multipart/form-data",
                     "application/json", "text/plain", ""]),
    st.one_of(st.binary(max_size=200), st.builds(lambda e: ("expression=" + quote(e)).encode(), ANY_FILTER),
              st.just(b"--b\r\nContent-Disposition: form-data; name=expression\r\n\r\ncatch_all()\r\n--b--\r\n")),
)


def send_route(client: FlaskClient, method: str, path: str, body: dict[str, Any] | tuple[str, bytes]) -> Any:
    if isinstance(body, dict):
        return client.open(path, method=method, data=body, headers=AUTH)
    content_type, raw = body
    return client.open(path, method=method, data=raw, content_type=content_type or None, headers=AUTH)


@SLOW
@given(st.one_of(FORM_BODIES, RAW_BODIES))
def test_routes_api_create_never_answers_5xx(client: tuple[Backend, FlaskClient], body: Any) -> None:
    """POST /v3/routes with generated bodies answers 200 or a 4xx JSON message, never a 5xx."""
    backend, http = fresh(client)
    data = assert_answered(send_route(http, "POST", "/v3/routes", body), backend)
    assert backend.errors == []
    if "route" in data:
        assert http.get(f"/v3/routes/{data['route']['id']}", headers=AUTH).status_code == 200


@SLOW
@given(st.one_of(FORM_BODIES, RAW_BODIES), st.one_of(st.none(), SEGMENT))
def test_routes_api_update_never_answers_5xx(client: tuple[Backend, FlaskClient], body: Any,
                                             route_id: str | None) -> None:
    """PUT /v3/routes/<id> with generated bodies, on a real or a made-up id, answers 200 or a 4xx JSON message."""
    backend, http = fresh(client)
    if route_id is None:
        route_id = backend.create_route("catch_all()", ["stop()"]).id
    reply = send_route(http, "PUT", "/v3/routes/" + quote(route_id, safe=""), body)
    assert_answered(reply, backend)
    assert backend.errors == []


@SLOW
@example(priority="--5")
@example(priority="9" * 5000)
@given(priority=st.one_of(st.from_regex(r"\A[ +-]{0,3}[0-9]{1,5}[ ]?\Z"), TEXT, st.just("9" * 5000)))
def test_routes_api_priority_never_answers_5xx(client: tuple[Backend, FlaskClient], priority: str) -> None:
    """Any priority text, on create and update, answers 200 or a 4xx JSON message, never a 5xx."""
    backend, http = fresh(client)
    assert_answered(send_route(http, "POST", "/v3/routes",
                               {"expression": "catch_all()", "action": "stop()", "priority": priority}), backend)
    route_id = backend.create_route("catch_all()", ["stop()"]).id
    assert_answered(send_route(http, "PUT", f"/v3/routes/{route_id}", {"priority": priority}), backend)
    assert_answered(http.get("/v3/routes?" + urlencode({"skip": priority, "limit": priority}), headers=AUTH), backend)


@pytest.mark.parametrize("expression", ["not " * 1000 + "catch_all()", "(" * 300 + "catch_all()" + ")" * 300],
                         ids=["1000-nots", "300-parentheses"])
def test_routes_api_deeply_nested_expression_answers_400(client: tuple[Backend, FlaskClient], expression: str) -> None:
    """A filter nested too deeply for the parser is a 400 JSON message, not a 500."""
    backend, http = fresh(client)
    reply = send_route(http, "POST", "/v3/routes", {"expression": expression, "action": "stop()"})
    assert reply.status_code == 400, (reply.status_code, reply.get_data()[:200])
    assert_answered(reply, backend)


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/v3/routes/%2F0"),
    ("GET", "/v3//routes"),
    ("DELETE", "/v3/domains/example.com/messages/%2Fkey"),
    ("GET", "/v3/example.com/events/%2Ftoken"),
])
def test_api_path_with_an_empty_segment_answers_json(client: tuple[Backend, FlaskClient], method: str,
                                                     path: str) -> None:
    """A path with an empty segment answers a JSON 4xx like any unknown path, never a redirect elsewhere."""
    backend, http = fresh(client)
    reply = http.open(path, method=method, headers=AUTH)
    assert 400 <= reply.status_code < 500 and "Location" not in reply.headers, (reply.status_code, reply.headers)
    assert_answered(reply, backend)


# --------------------------------------------------------------------------- inbound mail


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A fixture message with a few random byte-level edits."""
    buf = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(buf)))
        j = min(len(buf), i + draw(st.integers(0, 200)))
        op = draw(st.integers(0, 4))
        if op == 0:
            del buf[i:j]
        elif op == 1:
            buf[i:i] = buf[i:j]
        elif op == 2:
            buf[i:j] = draw(st.binary(min_size=j - i, max_size=j - i))
        elif op == 3:
            buf[i:i] = draw(st.sampled_from([b"\n", b"\r", b"\r\n\r\n", b"\x00", b"--", b": ", b"=?utf-8?B?",
                                             b"=?x?q?=FF?=", b"boundary=\"\"", b"\xff\xfe", b"Content-Type: multipart/mixed\r\n"]))
        else:
            del buf[i:]
    return bytes(buf)


HEADER_BLOCK = st.lists(st.tuples(st.sampled_from(["To", "Cc", "From", "Subject", "Content-Type", "Message-Id", "X-A"]),
                                  st.binary(max_size=60)), max_size=6)
RAW_MESSAGES = st.one_of(
    damaged(),
    st.binary(max_size=600),
    st.builds(lambda hs, body: b"".join(k.encode() + b": " + v + b"\r\n" for k, v in hs) + b"\r\n" + body,
              HEADER_BLOCK, st.binary(max_size=200)),
)
ENVELOPE = st.one_of(
    st.none(),
    st.lists(st.one_of(st.emails(), st.sampled_from(["support@example.com", "a@Example.COM.", "<x@example.org>",
                                                     "a@b, c@d", "ü@bücher.example"]), TEXT), min_size=1, max_size=3),
)


@pytest.fixture(scope="module")
def inbound_client() -> Iterator[tuple[Backend, FlaskClient]]:
    """A test client over a backend whose one route stores every message."""
    backend = Backend(Config())
    backend.create_route("catch_all()", ["store()"])
    app = create_app(backend)
    app.testing = False
    yield backend, app.test_client()
    backend.close()


@SLOW
@given(RAW_MESSAGES, ENVELOPE, st.booleans())
def test_inbound_random_messages_never_answer_5xx(inbound_client: tuple[Backend, FlaskClient], raw: bytes,
                                                  recipients: list[str] | None, multipart: bool) -> None:
    """POST /mock/inbound of random and damaged messages never answers 5xx; after a 200 the stored message and the events answer 200."""
    backend, http = fresh(inbound_client)
    if multipart:
        form: dict[str, Any] = {"message": (io.BytesIO(raw), "message.eml")}
        if recipients:
            form["recipient"] = recipients
        reply = http.post("/mock/inbound", data=form, headers=AUTH)
    else:
        query = urlencode([("recipient", r) for r in recipients or ()])
        reply = http.post("/mock/inbound?" + query, data=raw, content_type="message/rfc822", headers=AUTH)
    answer = assert_answered(reply, backend)
    assert backend.errors == []
    if reply.status_code != 200:
        return
    for entry in answer["recipients"]:
        domain = quote(entry["recipient"].rpartition("@")[2].lower(), safe="")
        (stored,) = [a["storage"] for a in entry["actions"] if a["action"] == "store"]
        path = f"/v3/domains/{domain}/messages/{quote(stored['key'])}"
        message = http.get(path, headers=AUTH)
        assert message.status_code == 200, message.get_data()[:300]
        assert isinstance(message.get_json(), dict)
        mime = http.get(path, headers={**AUTH, "Accept": "message/rfc2822"})
        assert mime.status_code == 200, mime.get_data()[:300]
        events = http.get(f"/v3/{domain}/events", headers=AUTH)
        assert events.status_code == 200, events.get_data()[:300]
        assert {"accepted", "stored"} <= {e["event"] for e in events.get_json()["items"]}


# --------------------------------------------------------------------------- the Events API

@pytest.fixture(scope="module")
def events_client() -> Iterator[tuple[Backend, FlaskClient]]:
    """A test client over a backend holding a few accepted and stored events on example.com."""
    backend = Backend(Config())
    backend.create_route("catch_all()", ["store()"])
    for n in range(5):
        backend.receive_inbound(f"From: bob@example.net\r\nTo: s{n}@example.com\r\nSubject: n{n}\r\n\r\nhi".encode())
    app = create_app(backend)
    app.testing = False
    yield backend, app.test_client()
    backend.close()


QUERY_KEYS = st.one_of(st.sampled_from(["begin", "end", "ascending", "limit", *FILTER_FIELDS]), TEXT)
QUERY_VALUES = st.one_of(
    TEXT,
    st.sampled_from(["yes", "no", "300", "301", "0", "-1", "1e3", "Fri, 3 May 2013 09:00:00 -0000",
                     "Mon, 01 Jan 0001 00:00:00 +2359", "99999999999.999999999", "NOT", "(", ")", '"', ">1", "<",
                     "failed OR stored", "NOT (accepted AND NOT stored)", "((((((((((((((((((x))))))))))))))))))"]),
    st.from_regex(r"\A[<>]?[0-9]{1,30}(\.[0-9]{0,12})?\Z"),
)
# Raw query strings too: bad escapes and bytes that are not UTF-8.
RAW_QUERIES = st.lists(st.sampled_from(["%", "%FF", "%zz", "&", "=", "+", "limit", "begin", "event", "a", ";", "%00"]),
                       max_size=10).map("".join)


def token_of(payload: Any, tag: bytes = b"j") -> str:
    raw = json.dumps(payload, allow_nan=True).encode()
    return base64.urlsafe_b64encode(tag + raw).decode().rstrip("=")


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3), max_leaves=8)
TOKENS = st.one_of(
    SEGMENT,
    st.text("ABCDEFabcdef0123456789_-", max_size=80),
    st.lists(JSON_VALUES, min_size=9, max_size=9).map(lambda p: token_of([1, *p[1:]])),
    st.builds(lambda kind, cursor, limit, filters, domain: token_of([1, kind, cursor, None, None, True, limit,
                                                                      filters, domain]),
              st.sampled_from(["f", "l", "n", "p", "x"]),
              st.one_of(st.none(), st.lists(st.floats(), min_size=2, max_size=2)),
              st.one_of(st.integers(-5, 400), st.floats()),
              st.lists(st.lists(st.one_of(st.sampled_from(FILTER_FIELDS), TEXT), min_size=2, max_size=2), max_size=2),
              st.sampled_from(["example.com", "EXAMPLE.com", "other.org"])),
)


@SLOW
@given(st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=5), st.one_of(st.just(""), RAW_QUERIES),
       st.sampled_from(["example.com", "Example.COM", "other.org", "ü.example", "a%2Fb", "%00"]))
def test_events_api_query_strings_never_answer_5xx(events_client: tuple[Backend, FlaskClient],
                                                   params: list[tuple[str, str]], raw: str, domain: str) -> None:
    """GET /v3/<domain>/events with generated query strings answers 200 or a 4xx JSON message; its paging links too."""
    backend, http = fresh(events_client)
    query = "&".join(filter(None, [urlencode(params), raw]))
    data = assert_answered(http.get(f"/v3/{domain}/events?{query}", headers=AUTH), backend)
    assert backend.errors == []
    for url in data.get("paging", {}).values():
        assert_answered(http.get(urlsplit(url).path, headers=AUTH), backend)


@SLOW
@given(TOKENS, st.sampled_from(["example.com", "EXAMPLE.com", "other.org"]))
def test_events_api_page_tokens_never_answer_5xx(events_client: tuple[Backend, FlaskClient], token: str,
                                                 domain: str) -> None:
    """GET /v3/<domain>/events/<token> with random, hand-made and mutated tokens answers 200 or a 4xx JSON message."""
    backend, http = fresh(events_client)
    path = f"/v3/{domain}/events/{quote(token, safe='')}"
    data = assert_answered(http.get(path, headers=AUTH), backend)
    assert backend.errors == []
    for url in data.get("paging", {}).values():
        assert_answered(http.get(urlsplit(url).path, headers=AUTH), backend)


@SLOW
@given(st.data())
def test_events_api_mutated_real_tokens_never_answer_5xx(events_client: tuple[Backend, FlaskClient],
                                                         data: st.DataObject) -> None:
    """A real paging token with characters dropped, changed, truncated or appended answers 200 or a 4xx JSON message."""
    backend, http = fresh(events_client)
    first = http.get("/v3/example.com/events?limit=2&ascending=yes", headers=AUTH).get_json()
    link = data.draw(st.sampled_from(sorted(first["paging"].values())))
    token = urlsplit(link).path.rpartition("/")[2]
    token = data.draw(mutated(st.just(token))).replace("/", "")  # an empty path segment is another test's
    assert_answered(http.get(f"/v3/example.com/events/{quote(token, safe='')}", headers=AUTH), backend)
    assert backend.errors == []
