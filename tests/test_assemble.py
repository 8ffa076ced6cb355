"""mailgun_mock.mail.assemble: the MIME the send handler writes, assembled without the header registry,
is byte for byte what the stdlib builder wrote (frozen in tests/reference_compose.py)."""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgun_mock.mail import assemble as assemble_module
from mailgun_mock.mail import compose
from mailgun_mock.mail.assemble import POLICY, assemble, render_header
from mailgun_mock.sending import build as sending_build
from mailgun_mock.sending import form
from tests import reference_compose
from tests.reference_compose import reference_build_message

DOMAIN = "mg.example.com"
NOW = 1736158500.0
MID = "<20250106101500.0123456789abcdef@mg.example.com>"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
EML = b"From: a@example.com\r\nSubject: inner\r\n\r\nbody\n"
BASE = {"from": "Shop <shop@mg.example.com>", "to": "bob@example.net", "subject": "Your order 4711"}

#: (id, form fields, files, whether the fast path writes it): the sends the corpus pins.
CORPUS: list[tuple[str, dict[str, Any], list[tuple[str, str, bytes, str]], bool]] = [
    ("text", {"text": "Thanks for your order.\nIt ships tomorrow."}, [], True),
    ("html", {"html": "<p>Thanks for your <b>order</b>.</p>"}, [], True),
    ("text-html", {"text": "Thanks", "html": "<p>Thanks</p>"}, [], True),
    ("attachments", {"text": "Invoice attached", "html": "<p>Invoice</p>"},
     [("attachment", "invoice.pdf", PDF, "application/pdf"), ("attachment[1]", "logo.png", PNG, "image/png")], True),
    ("inline", {"html": '<p><img src="cid:logo.png"></p>', "text": "logo"},
     [("inline", "logo.png", PNG, "image/png"), ("inline", "badge.png", PNG[:20], "image/png")], True),
    ("html-inline-attachment", {"html": '<img src="cid:a b.png">'},
     [("inline", "a b.png", PNG, "image/png"), ("attachment", "notes.txt", b"one\ntwo\n", "text/plain")], True),
    ("text-inline", {"text": "see the picture"}, [("inline", "p.png", PNG, "image/png")], True),
    ("non-ascii", {"from": "Zoë Ünal <zoe@mg.example.com>", "to": "Jürgen Groß <j@example.de>",
                   "subject": "Grüße aus Köln ☕ — Ihre Bestellung", "text": "Schöne Grüße\n", "html": "<p>Grüße</p>"},
     [("attachment", "Rechnung März.pdf", PDF, "application/pdf")], True),
    ("non-ascii-long-subject", {"subject": "Ünïcödé " * 20, "text": "x"}, [], True),
    ("batch", {"to": ["Ann <ann@example.com>", "bob@example.net"], "cc": "Carl <carl@example.org>",
               "bcc": "dora@example.org", "subject": "Hi %recipient.name%", "text": "Dear %recipient.name%, %recipient%",
               "recipient-variables": json.dumps({"ann@example.com": {"name": "Ann"},
                                                  "bob@example.net": {"name": "Bob", "id": 7}}),
               "v:order": "%recipient.id%"}, [], True),
    ("h-headers", {"text": "x", "h:Reply-To": "Support <support@mg.example.com>", "h:X-Custom": "a value",
                   "h:List-Unsubscribe": "<mailto:u@mg.example.com>, <https://mg.example.com/u>",
                   "h:Date": "Tue, 07 Jan 2025 08:00:00 +0100", "o:tag": ["welcome", "onboarding"],
                   "v:order-id": "4711", "h:X-Mailgun-Track": "no"}, [], True),
    ("h-date-odd", {"text": "x", "h:Date": "7 Jan 2025 08:00 GMT", "h:X-Empty": ""}, [], True),
    ("long-lines", {"text": "x" * 1200 + "\n" + "ü" * 700, "html": "<p>" + "y " * 800 + "</p>"}, [], True),
    ("line-endings", {"text": "a\r\nb\rc\n\nFrom me\n  trailing  \n", "html": "\r\n"}, [], True),
    ("empty-subject", {"subject": "", "text": "x"}, [], True),
    ("many-recipients", {"to": [f"User {i} <user{i}@example.com>" for i in range(60)], "text": "x"}, [], True),
    ("odd-names", {"to": ['"Smith, Bob" <bob@example.net>', "carl@example.org (Carl)", "Ann.B <ann@example.com>"],
                   "text": "x"}, [], True),
    ("encoded-word-lookalike", {"subject": "=?utf-8?q?hello?= world", "text": "x", "h:X-Tab": "a\tb"}, [], True),
    ("many-variables", {"text": "x", **{f"v:key{i}": f"value {i}" for i in range(60)}}, [], True),
    ("odd-files", {"text": "x"}, [("attachment", "", b"", ""), ("attachment", 'qu"ote\\.bin', b"\x00", "x/y;z=1"),
                                  ("attachment", "bad\r\nname.txt", b"1", "not a type")], True),
    ("eai", {"to": "jörg@exämple.de", "text": "x"}, [], False),
    ("amp", {"text": "x", "html": "<p>x</p>", "amp-html": "<html amp4email></html>"}, [], False),
    ("message-attachment", {"text": "x"}, [("attachment", "fwd.eml", EML, "message/rfc822")], False),
]


def build(fields: dict[str, Any], files: list[tuple[str, str, bytes, str]]) -> list[bytes]:
    """The raw messages the send handler writes for a form, with ``random`` seeded (boundaries)."""
    req = form.parse_send(DOMAIN, {**BASE, **fields}, files, now=NOW, max_size=25_000_000)
    random.seed(4711)
    return [m.raw for m in sending_build.build_messages(req, MID, now=NOW)]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each build went through the fast path, in order."""
    taken: list[bool] = []

    def spying(**kwargs: Any) -> bytes | None:
        raw = assemble(**kwargs)
        taken.append(raw is not None)
        return raw

    monkeypatch.setattr(compose, "assemble", spying)
    return taken


@pytest.mark.parametrize(("fields", "files", "fast"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_assemble_send_corpus_is_byte_identical(fields: dict[str, Any], files: list[tuple[str, str, bytes, str]],
                                                fast: bool, spy: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every send of the corpus gives the very bytes the stdlib builder gave, through the fast path where expected."""
    ours = build(fields, files)
    assert spy and all(taken is fast for taken in spy)
    monkeypatch.setattr(sending_build, "build_message", reference_build_message)
    assert ours == build(fields, files)


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The generated Date and Message-Id read a fixed time in both builders (and the same pid and seed)."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:
            return cls.fromtimestamp(NOW, tz or timezone.utc)

    monkeypatch.setattr(assemble_module, "datetime", Frozen)
    monkeypatch.setattr(compose, "datetime", Frozen)
    monkeypatch.setattr(reference_compose, "datetime", Frozen)
    monkeypatch.setattr(time, "time", lambda: NOW)
    yield


def outcome(builder: Callable[..., bytes], **kwargs: Any) -> tuple[str, Any]:
    """What a builder does with these arguments: its bytes, or the exception it raises (type and text)."""
    random.seed(99)
    try:
        return "bytes", builder(**kwargs)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def test_assemble_generated_date_and_message_id_match(frozen_time: None) -> None:
    """Without Date and Message-Id headers, both are generated as the stdlib builder generates them."""
    kwargs: dict[str, Any] = {"from_": "Ann <ann@example.com>", "to": ["bob@example.net"], "text": "hi", "html": "<p>"}
    assert outcome(compose.build_message, **kwargs) == outcome(reference_build_message, **kwargs)
    assert assemble(**kwargs) is not None


TEXT = st.text(max_size=60)
NAME = st.text(st.characters(codec="utf-8"), max_size=20)
ADDRESS = st.from_regex(r"[a-z0-9._+-]{1,10}@[a-z0-9-]{1,8}\.[a-z]{2,4}", fullmatch=True)
FILES = st.lists(st.tuples(NAME, st.binary(max_size=300), st.sampled_from(
    ["application/pdf", "image/png", "text/plain", "", "x/y; a=b", "message/rfc822", "multipart/mixed", "a b/c"])),
    max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAME, to=st.lists(st.tuples(NAME, ADDRESS), max_size=3), subject=TEXT, text=st.none() | TEXT,
       html=st.none() | TEXT, attachments=FILES, inline=FILES,
       extra=st.lists(st.tuples(st.sampled_from(["X-Custom", "Reply-To", "Subject", "Date", "Content-Language",
                                                 "Message-Id", "Sender", "X-Mailgun-Variables", "Resent-Date"]),
                                TEXT), max_size=3))
def test_assemble_matches_stdlib_on_any_fields(frozen_time: None, name: str, to: list[tuple[str, str]], subject: str,
                                               text: str | None, html: str | None, attachments: Any, inline: Any,
                                               extra: list[tuple[str, str]]) -> None:
    """Any names, subjects, bodies, files and extra headers give build_message the stdlib's bytes, or its error."""
    kwargs = {"from_": f"{name} <from@example.com>", "to": [f"{n} <{a}>" if n else a for n, a in to] or ["x@y.zz"],
              "subject": subject, "text": text, "html": html, "attachments": attachments, "inline": inline,
              "headers": extra}
    assert outcome(compose.build_message, **kwargs) == outcome(reference_build_message, **kwargs)


def registry(name: str, value: str) -> bytes:
    """The header line as the stdlib writes it: stored through the registry, folded by the policy."""
    return POLICY.fold_binary(name, POLICY.header_store_parse(name, value)[1])


PLAIN = st.from_regex(assemble_module._PLAIN, fullmatch=True)
ADDRESSES = st.from_regex(assemble_module._ADDRESSES, fullmatch=True)
CTYPE = st.from_regex(assemble_module._CONTENT_TYPE, fullmatch=True)
DISPOSITION = st.from_regex(assemble_module._DISPOSITION, fullmatch=True)
MSG_ID = st.from_regex(assemble_module._MSG_ID, fullmatch=True)
DATES = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 1, 1),
                     timezones=st.sampled_from([timezone.utc, None])).map(email.utils.format_datetime)


@settings(max_examples=300, deadline=None)
@given(pair=st.one_of(
    st.tuples(st.sampled_from(["Subject", "X-Custom", "Content-ID", "List-Unsubscribe", "X-Mailgun-Variables"]),
              PLAIN | st.text(max_size=40)),
    st.tuples(st.sampled_from(["From", "To", "Cc", "Reply-To", "Bcc"]), ADDRESSES),
    st.tuples(st.sampled_from(["Date"]), DATES | PLAIN),
    st.tuples(st.sampled_from(["Message-Id"]), MSG_ID),
    st.tuples(st.sampled_from(["Content-Type"]), CTYPE),
    st.tuples(st.sampled_from(["Content-Disposition"]), DISPOSITION),
    st.tuples(st.sampled_from(["Content-Transfer-Encoding", "MIME-Version"]),
              st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "1.0", "1.1"])),
))
def test_render_header_plain_values_match_the_registry(pair: tuple[str, str]) -> None:
    """Each value the fast path writes as it is, the registry writes the same (and any other value goes to the registry)."""
    name, value = pair
    try:
        expected = registry(name, value)
    except Exception:
        assert not assemble_module._plain_value(name, value)
        return
    assert render_header(name, value) == expected


@pytest.mark.parametrize("length", [880, 890, 895, 899, 900, 901, 990, 1000])
def test_render_header_long_lines_match_the_registry(length: int) -> None:
    """Around the plain-line limit and past the 998-character fold, lines are what the registry writes."""
    for name in ("Subject", "X-Custom"):
        value = " ".join(["word"] * length)[: length - len(name)].strip()
        assert render_header(name, value) == registry(name, value)
