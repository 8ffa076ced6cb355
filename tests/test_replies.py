"""The reply corpus (fixtures/replies/): our stripped-text and stripped-signature for each client's shape and language."""

from __future__ import annotations

import json
import pathlib

import pytest

from mailgun_mock.mail.parse import ParsedMessage
from mailgun_mock.mail.quotes import strip_text

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "replies"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
FILES = sorted(CORPUS.glob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_reply_corpus_stripped_fields(path: pathlib.Path) -> None:
    """Each corpus body strips to the stripped-text and stripped-signature pinned in manifest.json."""
    entry = MANIFEST[path.stem]
    assert strip_text(path.read_text(encoding="utf-8")) == (entry["stripped_text"], entry["stripped_signature"])


@pytest.mark.parametrize("path", FILES[::9], ids=lambda p: p.stem)
def test_reply_corpus_through_the_parser(path: pathlib.Path) -> None:
    """A corpus body sent as a quoted-printable UTF-8 text part yields the same fields from ParsedMessage."""
    import quopri

    raw = (b"From: a@example.com\r\nSubject: Re: x\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           + quopri.encodestring(path.read_bytes().replace(b"\n", b"\r\n")))
    msg, entry = ParsedMessage(raw), MANIFEST[path.stem]
    assert (msg.stripped_text, msg.stripped_signature) == (entry["stripped_text"], entry["stripped_signature"])


def test_reply_corpus_manifest_covers_every_file_and_fifteen_languages() -> None:
    """The manifest has an entry per file and no other, each difference from talon is explained, >= 15 languages."""
    assert set(MANIFEST) == {p.stem for p in FILES}
    assert all(e["kind"] in ("reply", "message") and e["client"] and e["language"] for e in MANIFEST.values())
    assert not [n for n, e in MANIFEST.items() if "talon_wrong" in e and "differs" in e]
    assert len({e["language"] for e in MANIFEST.values()}) >= 15


def test_reply_corpus_listed_in_fixtures_readme() -> None:
    """fixtures/README.md has one line for each corpus file."""
    readme = (CORPUS.parent / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in FILES if f"`replies/{p.name}`" not in readme] == []
