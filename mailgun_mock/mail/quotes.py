"""Reply-history and signature stripping: Mailgun's ``stripped-text``, ``stripped-signature`` and ``stripped-html``. Pure.

Written here rather than taken from a library: ``talon`` (Mailgun's own) was last released in 2017
and pulls in numpy, scipy, scikit-learn and lxml; ``mail-parser-reply`` strips the whitespace of
every line and treats any ``- item`` list or ``Thanks, ...`` sentence as the start of a signature;
``email-reply-parser`` is unmaintained, English-only and has no HTML support. The rules follow
talon's observable behaviour (measured by ``bench/bench_replies.py`` on ``fixtures/replies/``) and
go past it where it is plainly wrong, mostly on localized markers (:mod:`.reply_markers`):

- Quoted history that an attribution ("On <date>, <name> wrote:", in any supported language, quoted
  or not) introduces is removed with the attribution, wherever it stands: text after it (a reply
  written below the quote, a signature, a list footer) is kept.
- A header block ("From: / Sent: / To:", "-----Original Message-----", Samsung's "-------- Original
  message --------", Outlook's underscore line), or an attribution followed by unquoted text (Yahoo,
  Zoho), starts an unquoted history: everything from there on goes.
- Text between two quoted blocks makes an inline reply: then nothing is removed.
- With no attribution, a quoted block that ends the message goes, with a short intro such as
  "Alice wrote:" before it (talon keeps both).
"""

from __future__ import annotations

import html as htmllib
import logging
import re

from . import reply_markers
from .html_scan import ATTR_TAGS, BLOCK, VOID, Token, tokenize
from .signature import signature_start

__all__ = ["strip_html", "strip_text"]

log = logging.getLogger("mailgun_mock")

_I = re.IGNORECASE


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _unquote(line: str) -> str:
    """The line without its leading ``>`` markers (for a quoted attribution such as iOS Mail's)."""
    return line.lstrip().lstrip("> ")


class _Lines:
    """A body's lines with what the cut rules ask about them, computed once."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.blank = [not line.strip() for line in lines]
        self.quoted = [_quoted(line) for line in lines]
        self.colon = [line.rstrip().endswith((":", "：")) for line in lines]  # every attribution ends with a colon

    def after(self, i: int) -> int:
        """Index of the first non-blank line after ``i``, ``len(lines)`` if none."""
        j = i + 1
        while j < len(self.lines) and self.blank[j]:
            j += 1
        return j

    def quote_next(self, i: int) -> bool:
        """Whether the first non-blank line after ``i`` is quoted."""
        j = self.after(i)
        return j < len(self.lines) and self.quoted[j]

    def run_end(self, i: int) -> int:
        """End (exclusive) of the quoted run at ``i``: quoted and blank lines, up to the next unquoted text."""
        j = i
        while j < len(self.lines) and (self.quoted[j] or self.blank[j]):
            j += 1
        return j

    def attribution(self, i: int) -> int:
        """How many lines (1 to 3, wrapped by the client) the attribution starting at ``i`` spans; 0 if none."""
        lines = self.lines
        if not any(self.colon[i:i + 3]):
            return 0  # most lines are out at this cheap test
        for span in (1, 2, 3):
            end = i + span
            if end > len(lines) or any(self.blank[i:end]) or any(self.quoted[i:end]):
                return 0
            if not self.colon[end - 1]:
                continue
            if span > 1 and not reply_markers.attribution_head(lines[i]):
                return 0  # a wrapped attribution starts like one; this line is text before it
            if reply_markers.is_attribution(" ".join(x.strip() for x in lines[i:end]), quote_follows=self.quote_next(end - 1)):
                return span
        return 0

    def history_block(self, i: int) -> bool:
        """Whether an unquoted history (header block, "Original Message" line, underscores) starts at ``i``."""
        line = self.lines[i]
        head = line.lstrip()[:1]
        if head == "-" and reply_markers.ORIGINAL.match(line):
            return True
        if head == "-" and line.rstrip().endswith("--") and reply_markers.WROTE.search(line):
            return True  # Zoho: "---- On Mon, 06 Jan 2025 10:15:00 +0100 Alice <a@example.com> wrote ----"
        if head in ("-", "_") and (reply_markers.UNDERSCORES.match(line) or line.strip().startswith("--")):
            j = self.after(i)
            if j < len(self.lines) and reply_markers.HEADER_FROM.match(self.lines[j]) and self.header_block(j):
                return not reply_markers.FORWARDED.match(line)
        if ":" not in line and "：" not in line:
            return False
        return reply_markers.HEADER_FROM.match(line) is not None and self.header_block(i) and not self.forwarded(i)

    def header_block(self, i: int) -> bool:
        """Whether a From: line at ``i`` has at least two more header fields in the next five lines."""
        return sum(bool(reply_markers.HEADER_FIELD.match(x)) for x in self.lines[i + 1:i + 6]) >= 2

    def forwarded(self, i: int) -> bool:
        """Whether the line before ``i`` (blanks skipped) opens a forwarded message, whose header block is content."""
        j = i - 1
        while j >= 0 and self.blank[j]:
            j -= 1
        return j >= 0 and reply_markers.FORWARDED.match(self.lines[j]) is not None


def _history(body: _Lines) -> list[bool]:
    """Which lines are quoted history, by the rules in the module docstring."""
    lines, quoted, blank = body.lines, body.quoted, body.blank
    count = len(lines)
    drop = [False] * count
    # 1. The first unquoted history cuts everything after it.
    stop, i = count, 0
    attributions: list[tuple[int, int]] = []
    while i < count:
        if blank[i] or quoted[i]:
            i += 1
            continue
        if body.history_block(i):
            stop = i
            break
        span = body.attribution(i)
        if span:
            if not body.quote_next(i + span - 1):
                stop = i
                break
            attributions.append((i, span))
            i += span
            continue
        i += 1
    for k in range(stop, count):
        drop[k] = True
    # 2. Text between two quoted blocks: an inline reply, kept whole.
    seen_quote = text_after_quote = False
    for k in range(stop):
        if quoted[k]:
            if text_after_quote:
                return drop
            seen_quote = True
        elif seen_quote and not blank[k] and not any(a <= k < a + s for a, s in attributions):
            text_after_quote = True
    # 3. Each attribution goes with the quoted run below it; a quoted attribution takes its whole run.
    found = False
    for a, span in attributions:
        end = body.run_end(a + span)
        drop[a:end] = [True] * (end - a)
        found = True
    k = 0
    while k < stop:
        if quoted[k] and not drop[k]:
            end = min(body.run_end(k), stop)
            if any(quoted[j] and reply_markers.is_attribution(_unquote(lines[j]), quote_follows=True)
                   for j in range(k, end)):
                drop[k:end] = [True] * (end - k)
                found = True
            k = end
        else:
            k += 1
    if found:
        return drop
    # 4. No attribution: a quoted block that ends the message goes, with a short intro line before it.
    end = stop
    while end and blank[end - 1]:
        end -= 1
    if not end or not quoted[end - 1]:
        return drop
    start = end
    while start and (blank[start - 1] or quoted[start - 1]):
        start -= 1
    intro = start
    while intro and blank[intro - 1]:
        intro -= 1
    line = lines[intro - 1].strip() if intro else ""
    if line.endswith(":") and len(line) < 300 and ("@" in line or reply_markers.WROTE.search(line)):
        start = intro - 1
    drop[start:end] = [True] * (end - start)
    return drop


def _is_attribution(line: str) -> bool:
    """Whether ``line`` is an "On ..., X wrote:" attribution (any supported language), for the HTML rules."""
    return reply_markers.is_attribution(line, quote_follows=True)


def strip_text(text: str) -> tuple[str, str]:
    """Split a text body into the new reply and its signature, dropping the quoted history.

    :param text: the text/plain body.
    :return: ``(stripped text, stripped signature)``; the signature is ``""`` when none was found.
    """
    try:
        lines = text.replace("\r\n", "\n").split("\n")
        drop = _history(_Lines(lines))
        body = [line for line, gone in zip(lines, drop) if not gone]
        cut = signature_start(body)
        stripped = "\n".join(body[:cut]).rstrip().lstrip("\n")
        return stripped, "\n".join(body[cut:]).strip()
    except Exception:  # pragma: no cover - stripping is best-effort and must never break a delivery
        log.debug("text stripping failed", exc_info=True)
        return text.strip(), ""

_OUTLOOK_BORDER = re.compile(r"border-top\s*:\s*solid\s+#(e1e1e1|b5c4df)", _I)
# Every marker strip_html acts on contains one of these; HTML without them is returned untouched
# without tokenizing, which is most of the cost.
_MARKERS = ("blockquote", "gmail_quote", "yahoo_quoted", "divrplyfwdmsg", "appendonsend", "border-top", "from", "--")



def _element_text(tokens: list[Token], i: int, limit: int = 60) -> str:
    """The text of the next ``limit`` tokens from ``i``, unescaped and whitespace-collapsed."""
    text = "".join(htmllib.unescape(t.text) if t.kind == "data" else " " for t in tokens[i:i + limit])
    return " ".join(text.split())


def _matching_end(tokens: list[Token], i: int) -> int | None:
    """Index of the end tag closing the element opened at ``i`` (counting same-name tags only)."""
    tag, depth = tokens[i].tag, 0
    for j in range(i, len(tokens)):
        if tokens[j].tag == tag and tokens[j].kind in ("start", "end"):
            depth += 1 if tokens[j].kind == "start" else -1
            if depth == 0:
                return j
    return None


def _is_quote(tok: Token) -> bool:
    """Whether an element holds quoted history to remove whole (Gmail, Yahoo, Apple, any blockquote)."""
    classes = set(tok.attrs.get("class", "").split())
    return tok.tag == "blockquote" or (tok.tag == "div" and bool(classes & {"gmail_quote", "yahoo_quoted"}))


def _is_outlook_marker(tokens: list[Token], i: int) -> bool:
    """Whether the element at ``i`` starts an Outlook-style history that runs to the end of its parent."""
    tok = tokens[i]
    if tok.kind != "start" or tok.tag not in ("div", "p", "hr"):
        return False
    if tok.attrs.get("id") in ("divRplyFwdMsg", "appendonsend") or _OUTLOOK_BORDER.search(tok.attrs.get("style", "")):
        return True
    first = next((t.text for t in tokens[i + 1:i + 8] if t.kind == "data" and t.text.strip()), "").lstrip()
    if tok.tag == "hr" or not first.startswith(("From", "*From", "-")):
        return False  # cheap test first: most blocks do not start like a header
    text = _element_text(tokens, i + 1, 40)
    return bool(reply_markers.ORIGINAL.match(text) or reply_markers.OUTLOOK_TEXT.match(text))


def _drop_attribution(tokens: list[Token], drop: list[bool], i: int) -> None:
    """Drop the "On ..., X wrote:" text just before a removed quote at ``i``, keeping block tags."""
    texts: list[int] = []
    lines = 0
    j = i - 1
    while j >= 0 and i - j < 60:
        tok = tokens[j]
        if drop[j]:
            pass
        elif tok.kind == "data" and tok.text.strip():
            texts.append(j)
        elif tok.tag == "br" or tok.tag in BLOCK:
            if texts:
                joined = " ".join("".join(htmllib.unescape(tokens[k].text) for k in reversed(texts)).split())
                if _is_attribution(joined):
                    break
                lines += 1
                if tok.tag != "br" or lines > 1 or not reply_markers.WROTE.search(joined):
                    return
        j -= 1
    if not texts:
        return
    joined = " ".join("".join(htmllib.unescape(tokens[k].text) for k in reversed(texts)).split())
    if not _is_attribution(joined):
        return
    first = min(texts)
    span = range(first, i)
    counts: dict[str, int] = {}
    for k in span:
        if tokens[k].kind in ("start", "end") and tokens[k].tag not in BLOCK:
            counts[tokens[k].tag] = counts.get(tokens[k].tag, 0) + (1 if tokens[k].kind == "start" else -1)
    for k in span:
        tok = tokens[k]
        if tok.kind == "data" or tok.tag == "br" or (
                tok.kind in ("start", "end") and tok.tag not in BLOCK and counts.get(tok.tag) == 0):
            drop[k] = True


def strip_html(source: str) -> str:
    """Remove the quoted history from an HTML body, leaving every other byte of markup as it was.

    Removed: Gmail ``gmail_quote`` and Yahoo ``yahoo_quoted`` divs, every ``<blockquote>`` (Apple
    ``type=cite``, Thunderbird, generic) with the attribution line before it, and Outlook histories
    (``divRplyFwdMsg``, the bordered "From: ... Sent: ..." block, "-----Original Message-----"), which
    run from the marker to the end of the enclosing element.

    :param source: the text/html body.
    :return: the HTML without quotes; the input unchanged if it could not be tokenized.
    """
    lowered = source.lower()
    if not any(marker in lowered for marker in _MARKERS):
        return source
    try:
        tokens = tokenize(source)
    except Exception:
        log.debug("HTML could not be tokenized for stripping", exc_info=True)
        return source
    drop = [False] * len(tokens)
    stack: list[int] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "start" and _is_quote(tok):
            end = _matching_end(tokens, i)
            for k in range(i, len(tokens) if end is None else end + 1):
                drop[k] = end is not None or tokens[k].kind != "end"
            _drop_attribution(tokens, drop, i)
            i = len(tokens) if end is None else end + 1
            continue
        if tok.kind == "start" and tok.tag in ATTR_TAGS and _is_outlook_marker(tokens, i):
            start = i
            # Climb out of wrappers that hold nothing before the marker (Outlook nests it in a bare <div>).
            while stack and tokens[stack[-1]].tag not in ("body", "html") and not any(
                    t.kind == "data" and t.text.strip() for t in tokens[stack[-1] + 1:start]):
                start = stack.pop()
            parent = _matching_end(tokens, stack[-1]) if stack else None
            stop = len(tokens) if parent is None else parent
            for k in range(start, stop):
                drop[k] = parent is not None or tokens[k].kind != "end"
            k = start - 1
            while k >= 0 and (tokens[k].tag == "hr" or (tokens[k].kind == "data" and not tokens[k].text.strip())):
                drop[k] = tokens[k].tag == "hr" or drop[k]
                k -= 1
            i = stop
            continue
        if tok.kind == "start" and tok.tag not in VOID:
            stack.append(i)
        elif tok.kind == "end" and any(tokens[s].tag == tok.tag for s in stack):
            while stack and tokens[stack.pop()].tag != tok.tag:
                pass
        i += 1
    head = source[:tokens[0].start] if tokens else source
    return head + "".join(t.text for t, gone in zip(tokens, drop) if not gone)
