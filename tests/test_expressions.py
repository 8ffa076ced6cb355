"""The route filter language: parsing, matching, captures, validation, time bound."""

from __future__ import annotations

import time

import pytest

from mailgun_mock.base.errors import ExpressionError
from mailgun_mock.lang.actions import parse_action
from mailgun_mock.lang.filters import MatchContext, parse_filter


class Headers:
    """A message's headers for the matcher: name lookup ignores case, every occurrence kept."""

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = pairs

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k.lower() == name.lower()]


MSG = Headers(
    ("Subject", "Urgent: invoice 4711 overdue"),
    ("From", "Bob Example <bob@example.net>"),
    ("X-Mailgun-Sflag", "No"),
    ("Received", "from a.example by b.example"),
    ("Received", "from c.example by d.example"),
    ("Content-Language", "en-US"),
    ("X-Tag", "Café"),
)

# (expression, recipient, matches)
MATCH_TABLE = [
    # match_recipient: match semantics (anchored at the start, not the end), case-insensitive
    ('match_recipient("foo@bar.com")', "foo@bar.com", True),
    ('match_recipient("foo@bar.com")', "FOO@Bar.COM", True),
    ('match_recipient("foo@bar.com")', "xfoo@bar.com", False),
    ('match_recipient("foo@bar")', "foo@bar.com", True),
    ('match_recipient("foo@bar.com$")', "foo@bar.com.evil", False),
    ('match_recipient(".*@bar.com")', "anyone@bar.com", True),
    ('match_recipient(".*@bar.com")', "anyone@baz.com", False),
    ("match_recipient('^support@')", "support@example.com", True),
    ("match_recipient('support')", "help@support.example.com", False),
    ('match_recipient(".*support")', "help@support.example.com", True),
    ('match_recipient("(?-i:Foo)@x")', "foo@x", False),
    (r'match_recipient("\d+@x\.com")', "123@x.com", True),
    (r'match_recipient("\d+@x\.com")', "abc@x.com", False),
    ('match_recipient("")', "anything@x.com", True),
    # match_header: decoded value, every occurrence, case-sensitive value, any-case name
    ('match_header("subject", ".*invoice")', "r@x", True),
    ('match_header("SUBJECT", "Urgent")', "r@x", True),
    ('match_header("subject", "urgent")', "r@x", False),
    ('match_header("subject", "(?i)urgent")', "r@x", True),
    ('match_header("subject", "invoice")', "r@x", False),
    ("match_header('X-Mailgun-Sflag', 'Yes')", "r@x", False),
    ("match_header('X-Mailgun-Sflag', 'No')", "r@x", True),
    ('match_header("received", "from c\\.example")', "r@x", True),
    ('match_header("x-missing", ".*")', "r@x", False),
    ('match_header("X-Tag", "Caf\u00e9")', "r@x", True),
    ('match_header("Content-Language", "^(.*)en-US(.*)$")', "r@x", True),
    # operators
    ('match_recipient(".*@bar.com") and match_header("subject", "Urgent")', "a@bar.com", True),
    ('match_recipient(".*@bar.com") and match_header("subject", "Calm")', "a@bar.com", False),
    ('match_recipient(".*@bar.com") or match_header("subject", "Urgent")', "a@baz.com", True),
    ('match_recipient(".*@bar.com") or match_header("subject", "Calm")', "a@baz.com", False),
    ('not match_recipient(".*@bar.com")', "a@baz.com", True),
    ('not match_recipient(".*@bar.com")', "a@bar.com", False),
    ('not not match_recipient(".*@bar.com")', "a@bar.com", True),
    ('(match_recipient("a@") or match_recipient("b@")) and match_header("subject", "Urgent")', "b@x", True),
    ('match_recipient("a@") or (match_recipient("b@") and match_header("subject", "Calm"))', "b@x", False),
    ('match_recipient("a@") or match_recipient("b@") and match_header("subject", "Calm")', "a@x", True),
    ('  match_recipient( "a@" )  and  catch_all( )  ', "a@x", True),
    # catch_all
    ("catch_all()", "anyone@anywhere", True),
    ('catch_all() and match_recipient(".*@bar.com")', "a@bar.com", True),
]


@pytest.mark.parametrize(("expression", "recipient", "expected"), MATCH_TABLE)
def test_filter_matches_as_mailgun(expression: str, recipient: str, expected: bool) -> None:
    """Each filter gives Mailgun's answer for this recipient and message."""
    result = parse_filter(expression).evaluate(MatchContext(recipient, MSG))
    assert result.matched is expected, result.explain()


def test_catch_all_does_not_match_after_an_earlier_route() -> None:
    """catch_all() matches only when no earlier route matched the recipient."""
    f = parse_filter("catch_all()")
    assert f.evaluate(MatchContext("a@x", earlier_match=False)).matched
    result = f.evaluate(MatchContext("a@x", earlier_match=True))
    assert not result.matched
    assert "an earlier route matched" in result.explain()


# (expression, recipient, action template, expanded)
CAPTURE_TABLE = [
    ('match_recipient("(.*)@bar.com")', "alice@bar.com", r"http://myhost.com/post/?mailbox=\1", "http://myhost.com/post/?mailbox=alice"),
    (
        'match_recipient("(?P<user>.*?)@(?P<domain>.*)")',
        "alice@bar.com",
        r"http://mycallback.com/domains/\g<domain>/users/\g<user>",
        "http://mycallback.com/domains/bar.com/users/alice",
    ),
    ('match_recipient("(.*)\\+(.*)@x")', "bob+tag@x", r"http://h/\2/\1", "http://h/tag/bob"),
    ('match_header("subject", "Urgent: invoice (\\d+)")', "r@x", r"http://h/invoices/\1", "http://h/invoices/4711"),
    # with "and", the captures come from the last filter that matched
    (
        'match_recipient("(.*)@x") and match_header("subject", "(Urgent)")',
        "carol@x",
        r"http://h/\1",
        "http://h/Urgent",
    ),
    # with "or", from the operand that made it true
    ('match_recipient("(zed)@") or match_recipient("(.*)@x")', "dave@x", r"http://h/\1", "http://h/dave"),
    # a reference to a group the filter does not have is left as written
    ('match_recipient("(.*)@x")', "erin@x", r"http://h/\3", r"http://h/\3"),
    # catch_all has no captures: the template stays as written
    ("catch_all()", "frank@x", r"http://h/\1", r"http://h/\1"),
    # the recipient's case is kept in captures even though matching ignores it
    ('match_recipient("(.*)@x")', "Gina@X", r"http://h/\1", "http://h/Gina"),
]


@pytest.mark.parametrize(("expression", "recipient", "template", "expanded"), CAPTURE_TABLE)
def test_filter_captures_fill_action_arguments(expression: str, recipient: str, template: str, expanded: str) -> None:
    """Captures of the matching filter fill \\1 and \\g<name> in actions (Match.expand rules)."""
    result = parse_filter(expression).evaluate(MatchContext(recipient, MSG))
    assert result.matched
    action = parse_action(f'forward("{template}")').expand(result)
    assert action.destinations == (expanded,)


def test_filter_captures_are_listed_by_number_and_name() -> None:
    """The match result lists numbered and named groups, for the inject answer."""
    result = parse_filter('match_recipient("(?P<user>.*)@(.*)")').evaluate(MatchContext("ann@x.org"))
    assert result.captures == {"1": "ann", "2": "x.org", "user": "ann"}


def test_filter_explains_why_it_did_not_match() -> None:
    """A miss says which function failed and on what value."""
    result = parse_filter('match_recipient(".*@bar.com") and match_header("subject", "x")').evaluate(
        MatchContext("a@baz.com", MSG)
    )
    assert not result.matched
    assert result.reasons == ("match_recipient('.*@bar.com'): recipient 'a@baz.com' does not match",)


def test_filter_explains_a_missing_header() -> None:
    """match_header on an absent header says the header is missing."""
    result = parse_filter('match_header("X-None", "a")').evaluate(MatchContext("a@x", MSG))
    assert result.explain() == "match_header('X-None', 'a'): the message has no header 'X-None'"


@pytest.mark.parametrize("pattern", [r"(a|aa)+$", r"(a|a)*$"])
def test_filter_pathological_pattern_is_time_bounded(pattern: str) -> None:
    """A catastrophic pattern stops at the time bound, counts as no match, and is recorded."""
    f = parse_filter(f'match_recipient("{pattern}")')
    started = time.monotonic()
    result = f.evaluate(MatchContext("a" * 60 + "!", timeout=0.05))
    elapsed = time.monotonic() - started
    assert not result.matched
    assert result.timed_out == (f"match_recipient({pattern!r})",)
    assert "timed out" in result.explain()
    # A generous ceiling, not a benchmark: without the bound this takes hours.
    assert elapsed < 5


def test_filter_timed_out_pattern_lets_other_operands_match() -> None:
    """A timeout is only a no-match: an "or" with another filter can still match."""
    f = parse_filter('match_recipient("(a|aa)+$") or match_recipient("a")')
    result = f.evaluate(MatchContext("a" * 60 + "!", timeout=0.05))
    assert result.matched


# (expression, message fragment)
INVALID_FILTERS = [
    ('match_sender("x")', "unknown function 'match_sender'"),
    ("eval('1')", "unknown function 'eval'"),
    ("__import__('os')", "unknown function '__import__'"),
    ('match_recipient("(")', "invalid regular expression in match_recipient"),
    ('match_header("subject", "[a-")', "invalid regular expression in match_header"),
    ('match_recipient("(?R)")', "invalid regular expression in match_recipient"),  # regex-only recursion
    ('match_recipient("(a(?1)?b)")', "invalid regular expression in match_recipient"),
    ('match_header("subject", "(?P<x>a)(?&x)")', "invalid regular expression in match_header"),
    ('match_recipient("a")\nand catch_all()', "expressions must fit on one line"),
    ('match_recipient("a") and\r catch_all()', "expressions must fit on one line"),
    ('match_recipient("abc)', "unbalanced quotes"),
    ("match_recipient('abc\")", "unbalanced quotes"),
    ('match_recipient("a", "b")', "match_recipient() takes 1 argument, 2 given"),
    ("match_recipient()", "match_recipient() takes 1 argument, 0 given"),
    ('match_header("subject")', "match_header() takes 2 arguments, 1 given"),
    ('catch_all("x")', "catch_all() takes 0 arguments, 1 given"),
    ('match_header("", "x")', "needs a header name"),
    ('match_recipient(pattern="x")', "takes no keyword arguments"),
    ('match_recipient("a") AND catch_all()', "unknown operator 'AND'"),
    ('match_recipient("a") && catch_all()', "unexpected character '&'"),
    ('match_recipient("a") and', "expected a function call"),
    ('(match_recipient("a")', "expected ')'"),
    ('match_recipient("a"))', "unexpected ')'"),
    ("match_recipient", "expected '(' after 'match_recipient'"),
    ('match_recipient("a") catch_all()', "unexpected 'catch_all'"),
    ("match_recipient(1)", "unexpected character '1'"),
    ("", "the expression is empty"),
    ("   ", "the expression is empty"),
    ("and", "expected a function call, found 'and'"),
    ('match_recipient("a" "b")', "expected ',' or ')'"),
]


@pytest.mark.parametrize(("expression", "fragment"), INVALID_FILTERS)
def test_filter_invalid_is_refused_with_a_message(expression: str, fragment: str) -> None:
    """An invalid filter raises ExpressionError saying what is wrong."""
    with pytest.raises(ExpressionError) as info:
        parse_filter(expression)
    assert fragment in info.value.message


def test_filter_error_says_where() -> None:
    """The error names the 1-based character where the problem starts."""
    with pytest.raises(ExpressionError) as info:
        parse_filter('match_recipient("a") and match_sender("b")')
    assert info.value.position == 25
    assert info.value.message.endswith("(at character 26)")


def test_filter_strings_keep_backslashes_like_raw_strings() -> None:
    """A backslash keeps the next character, so regex escapes and \\1 survive, and \\" does not end a string."""
    f = parse_filter(r'match_header("subject", "say \"hi\" \d")')
    assert f.evaluate(MatchContext("r@x", Headers(("Subject", 'say "hi" 5')))).matched
