"""The delivery worker's pieces: form encoding identical to the stdlib's."""

from __future__ import annotations

import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from mailgun_mock.wire.form import encode_form, quote_plus


@given(st.one_of(st.text(), st.binary()))
def test_quote_plus_matches_the_stdlib(value: str | bytes) -> None:
    """The table-driven quote_plus gives exactly urllib.parse.quote_plus's output, for text and bytes."""
    assert quote_plus(value).decode("ascii") == urllib.parse.quote_plus(value)


@given(st.lists(st.tuples(st.text(max_size=20), st.one_of(st.text(max_size=200), st.binary(max_size=200))), max_size=8))
def test_encode_form_is_urlencode(fields: list[tuple[str, str | bytes]]) -> None:
    """Without files a form body is byte for byte urllib.parse.urlencode's, repeated keys in order."""
    body, content_type = encode_form(fields)
    assert content_type == "application/x-www-form-urlencoded"
    assert body == urllib.parse.urlencode(fields).encode("ascii")
