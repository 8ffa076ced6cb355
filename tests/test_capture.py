"""mailgun_mock.delivery.capture: what each webhook POST sent, kept for the web inbox, decoded only when
read (a small body) or at once with its long values clipped (a large one, whose bytes are not kept)."""

from __future__ import annotations

from mailgun_mock.delivery.capture import Posted
from mailgun_mock.wire.form import encode_form


def test_small_body_is_kept_and_decoded_when_read() -> None:
    """Up to 64 KB the bytes are kept as sent; fields and signature come from them on first read."""
    body, content_type = encode_form([("subject", "Hi & bye"), ("timestamp", "1"), ("token", "t"), ("signature", "s")])
    posted = Posted.of("http://app.test/hook", body, content_type)
    assert posted.body == body and "_decoded" not in posted.__dict__  # nothing decoded yet
    assert posted.fields == (("subject", "Hi & bye"), ("timestamp", "1"), ("token", "t"), ("signature", "s"))
    assert posted.signature == {"timestamp": "1", "token": "t", "signature": "s"}
    assert (posted.content_type, posted.size) == ("application/x-www-form-urlencoded", len(body))


def test_multipart_body_keeps_its_boundary_for_the_later_decode() -> None:
    """The Content-Type shown drops its parameters, but decoding later still finds the boundary."""
    body, content_type = encode_form([("subject", "Hi")], [("attachment-1", "a.txt", b"hello", "text/plain")])
    posted = Posted.of("http://app.test/hook", body, content_type)
    assert posted.content_type == "multipart/form-data"
    assert posted.fields == (("subject", "Hi"), ("attachment-1", "<file 'a.txt', text/plain, 5 bytes>"))


def test_large_body_is_decoded_at_once_and_its_bytes_dropped() -> None:
    """Over 64 KB: decoded at once, a value over 20,000 characters clipped, the bytes not kept."""
    body, content_type = encode_form([("body-plain", "x" * 100_000)])
    posted = Posted.of("http://app.test/hook", body, content_type)
    assert posted.body == b"" and posted.size == len(body)
    ((name, value),) = posted.fields
    assert name == "body-plain" and value.startswith("x" * 20_000) and value.endswith("(100000 characters)")


def test_body_that_is_not_a_form_is_shown_raw() -> None:
    """A JSON content type with a body that is not JSON shows the body as one field."""
    posted = Posted.of("http://app.test/hook", b"{not json", "application/json")
    assert posted.fields == (("body", "{not json"),) and posted.signature == {}
