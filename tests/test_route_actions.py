"""The route action language: forward, store and stop, parsed, validated and filled with captures."""

from __future__ import annotations

import pytest

from mailgun_mock.base.errors import ExpressionError
from mailgun_mock.lang.actions import Action, is_url, parse_action
from mailgun_mock.lang.filters import MatchContext, parse_filter

# (action, kind, destinations, notify)
VALID_ACTIONS = [
    ('forward("https://app.example/hook")', "forward", ("https://app.example/hook",), None),
    ("forward('http://localhost:5000/mime')", "forward", ("http://localhost:5000/mime",), None),
    ('forward("ops@example.com")', "forward", ("ops@example.com",), None),
    ('forward("http://a.example/x, ops@example.com ,b@example.org")', "forward",
     ("http://a.example/x", "ops@example.com", "b@example.org"), None),
    (r'forward("http://h.example/\g<user>")', "forward", (r"http://h.example/\g<user>",), None),
    ("store()", "store", (), None),
    ('store(notify="https://app.example/stored")', "store", (), "https://app.example/stored"),
    ("stop()", "stop", (), None),
    ("  stop( )  ", "stop", (), None),
]


@pytest.mark.parametrize(("text", "kind", "destinations", "notify"), VALID_ACTIONS)
def test_action_parses(text: str, kind: str, destinations: tuple[str, ...], notify: str | None) -> None:
    """Each valid action parses to its kind and arguments."""
    action = parse_action(text)
    assert (action.kind, action.destinations, action.notify) == (kind, destinations, notify)


INVALID_ACTIONS = [
    ('redirect("http://x")', "unknown action 'redirect'"),
    ("forward()", "forward() takes one string"),
    ('forward("a@x", "b@x")', "forward() takes one string"),
    ('forward("")', "at least one destination"),
    ('forward("a@x,,b@x")', "empty destination"),
    ('forward("not an address")', "neither an http(s) URL nor an email address"),
    ('forward("ftp://x.example/")', "neither an http(s) URL nor an email address"),
    ('forward("http://")', "must be an http:// or https:// URL"),
    ('store("http://x")', 'store() takes only notify="URL"'),
    ('store(notfy="http://x")', 'store() takes only notify="URL"'),
    ('store(notify="mailto:a@x")', "must be an http:// or https:// URL"),
    ('stop("now")', "stop() takes no arguments"),
    ("stop() and stop()", "unexpected 'and'"),
    ("stop(", "expected"),
    ('forward("http://x)', "unbalanced quotes"),
    ("forward('http://x')\n", "one line"),
    ("", "the action is empty"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID_ACTIONS)
def test_action_invalid_is_refused_with_a_message(text: str, fragment: str) -> None:
    """An invalid action raises ExpressionError saying what is wrong."""
    with pytest.raises(ExpressionError) as info:
        parse_action(text)
    assert fragment in info.value.message


def test_action_expand_fills_notify_url() -> None:
    """Captures also fill store(notify=…) URLs."""
    result = parse_filter('match_recipient("(.*)@x")').evaluate(MatchContext("box1@x"))
    assert parse_action(r'store(notify="http://h/\1")').expand(result).notify == "http://h/box1"


def test_action_expand_leaves_stop_and_store_without_notify_alone() -> None:
    """Expanding an action without arguments to fill returns an equal action."""
    result = parse_filter('match_recipient("(.*)@x")').evaluate(MatchContext("box1@x"))
    assert parse_action("stop()").expand(result) == Action("stop()", "stop")
    assert parse_action("store()").expand(result) == Action("store()", "store")


@pytest.mark.parametrize(("destination", "expected"), [
    ("http://h.example/x", True), ("HTTPS://h.example/x", True), ("ops@example.com", False), ("ftp://h/", False),
])
def test_is_url_tells_webhooks_from_addresses(destination: str, expected: bool) -> None:
    """A forward destination is a URL when it starts with http:// or https://, in any case."""
    assert is_url(destination) is expected
