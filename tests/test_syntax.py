"""The call syntax shared by route filters and actions: tokens, calls and the errors they raise."""

from __future__ import annotations

import pytest

from mailgun_mock.base.errors import ExpressionError
from mailgun_mock.lang.syntax import Call, Parser, tokenize


def test_tokenize_gives_kinds_texts_and_offsets() -> None:
    """Each token carries its kind, its text (strings without quotes) and its 0-based offset; an end token closes."""
    tokens = tokenize('store( notify="a\\"b")')
    assert [(t.kind, t.text, t.pos) for t in tokens] == [
        ("name", "store", 0), ("(", "(", 5), ("name", "notify", 7), ("=", "=", 13), ("string", 'a\\"b', 14),
        (")", ")", 20), ("end", "", 21)]


def test_parser_call_reads_positional_then_keyword_arguments() -> None:
    """A call parses to its name, positional and keyword arguments; source() writes the positional ones back."""
    call = Parser('f("a", \'b\', k="v")', "action").call()
    assert call == Call("f", ("a", "b"), (("k", "v"),), 0)
    assert call.source() == "f('a', 'b')"


@pytest.mark.parametrize(("text", "fragment"), [
    ('f(k="v", "a")', "positional argument after keyword argument"),
    ("f(k)", "expected '=' after 'k'"),
    ('Not f("a")', "expected '(' after 'Not' (operators are lowercase: and, or, not)"),
    ("f() g", "unexpected 'g' after the end of the action"),
    ("f() OR", "unknown operator 'OR'"),
])
def test_parser_refuses_malformed_calls(text: str, fragment: str) -> None:
    """A malformed call raises ExpressionError naming what was expected and what the line is."""
    with pytest.raises(ExpressionError) as info:
        parser = Parser(text, "action")
        parser.call()
        parser.finish()
    assert fragment in info.value.message
