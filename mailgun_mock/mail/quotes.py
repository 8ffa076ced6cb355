"""Reply-history and signature stripping: Mailgun's ``stripped-text``, ``stripped-signature`` and ``stripped-html``. Pure.

Written here rather than taken from a library: ``talon`` (Mailgun's own) was last released in 2017
and pulls in numpy, scipy, scikit-learn and lxml; ``mail-parser-reply`` strips the whitespace of
every line and treats any ``- item`` list or ``Thanks, ...`` sentence as the start of a signature;
``email-reply-parser`` is unmaintained, English-only and has no HTML support. The rules below follow
talon's observable behaviour and err towards keeping text: a signature or quote is cut only when a
strong marker says so, and never when it would leave nothing.
"""

from __future__ import annotations

import html as htmllib
import logging
import re

from .html_scan import ATTR_TAGS, BLOCK, VOID, Token, tokenize

__all__ = ["strip_html", "strip_text"]

log = logging.getLogger("mailgun_mock")

_I = re.IGNORECASE
# "On <date>, <name> wrote:" and its translations; the line must end with the verb and colon.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\s.{1,240}?\bwrote|Am\s.{1,240}?\bschrieb\b.{0,240}?|.{1,240}?\bschrieb am\b.{1,120}?"
    r"|Le\s.{1,240}?\ba\s+écrit|El\s.{1,240}?\bescribió|Op\s.{1,240}?\bschreef|Il\s.{1,240}?\bha scritto"
    r"|Em\s.{1,240}?\bescreveu|Den\s.{1,240}?\bskrev|W dniu\s.{1,240}?\bnapisał(?:\(a\))?"
    r")\s*:\s*$", _I)
_ATTRIBUTION_START = re.compile(r"^\s*(On|Am|Le|El|Op|Il|Em|Den|W dniu)\s", _I)
_ATTRIBUTION_END = re.compile(r"\b(wrote|schrieb|écrit|escribió|schreef|scritto|escreveu|skrev|napisał(\(a\))?)"
                              r"\s*:\s*$", _I)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original"
                       r"|Messaggio originale|Oorspronkelijk bericht|Mensagem original)\s*-{2,}", _I)
_OUTLOOK_TEXT = re.compile(r"\*?From\s*:.{1,300}?\b(Sent|Date)\s*:.{1,300}?\b(To|Subject)\s*:", _I)
_FORWARDED = re.compile(r"^\s*-{2,}\s*(Forwarded message|Weitergeleitete Nachricht|Message transféré)", _I)
_UNDERSCORES = re.compile(r"^\s*_{20,}\s*$")
_FROM_LINE = re.compile(r"^\s*\*?(From|De|Von|Van|Da|Från|Od)\s*:\*?\s*\S", _I)
_OUTLOOK_FIELD = re.compile(r"^\s*\*?(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Verzonden|Inviato|To|An|À|Para|Aan"
                            r"|A|Subject|Betreff|Objet|Asunto|Onderwerp|Oggetto|Cc)\s*:", _I)
_SIG_DELIMITER = re.compile(r"^-- ?$")
_MOBILE = re.compile(
    r"^\s*(Sent from my \S.{0,60}|Sent from (Mail|Outlook|Yahoo Mail|Gmail|Samsung|my mobile)\b.{0,60}"
    r"|Get Outlook for \S.{0,60}|Sent with \S.{0,60}|Sent via \S.{0,60}|Envoyé de mon \S.{0,60}"
    r"|Von meinem \S.{0,60} gesendet|Enviado desde mi \S.{0,60})\s*$", _I)
_SIGN_OFF = re.compile(
    r"^\s*(thanks|thank you|many thanks|thanks again|thx|cheers|best|best wishes|best regards|kind regards"
    r"|warm regards|warmly|regards|sincerely|yours( truly| sincerely)?|all the best|take care|br"
    r"|mit freundlichen grüßen|viele grüße|beste grüße|liebe grüße|grüße|gruß|cordialement|bien à vous"
    r"|merci|saludos|un saludo|atentamente|gracias)\s*[,.!]?\s*$", _I)


def _is_attribution(line: str) -> bool:
    """Whether ``line`` is an "On ..., X wrote:" attribution (any supported language)."""
    return len(line) < 400 and line.rstrip().endswith(":") and _ATTRIBUTION.match(line) is not None


def _quote_start(lines: list[str]) -> int:
    """Index of the first line of the quoted history, ``len(lines)`` when there is none."""
    quoted = [line.lstrip().startswith(">") for line in lines]
    blank = [not line.strip() for line in lines]
    # What follows each line, computed once so the scan below stays linear.
    quoted_after, unquoted_after = [False] * (len(lines) + 1), [False] * (len(lines) + 1)
    for i in range(len(lines) - 1, -1, -1):
        quoted_after[i] = quoted_after[i + 1] or (quoted[i] and not blank[i])
        unquoted_after[i] = unquoted_after[i + 1] or not (quoted[i] or blank[i])
    previous = ""
    for i, line in enumerate(lines):
        if blank[i] or quoted[i]:
            previous = line if not blank[i] else previous
            continue
        if _ORIGINAL.match(line):
            return i
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        wrapped = _ATTRIBUTION_START.match(line) and _ATTRIBUTION_END.search(nxt) and _is_attribution(f"{line} {nxt}")
        after = i + 1 + bool(wrapped)
        # Quoted text with answers between its lines is an inline reply: all of it is content.
        if (_is_attribution(line) or wrapped) and not (quoted_after[after] and unquoted_after[after]):
            return i
        if _UNDERSCORES.match(line) and any(_FROM_LINE.match(x) for x in lines[i + 1:i + 3]):
            return i
        if _FROM_LINE.match(line) and sum(bool(_OUTLOOK_FIELD.match(x)) for x in lines[i + 1:i + 6]) >= 2:
            if not _FORWARDED.match(previous):  # a forwarded message's header block is content
                return i
        previous = line
    # A trailing block of ">" lines, and the attribution line that introduces it.
    end = len(lines)
    while end and blank[end - 1]:
        end -= 1
    if not end or not quoted[end - 1]:
        return len(lines)
    start = end
    while start and (blank[start - 1] or quoted[start - 1]):
        start -= 1
    intro = start
    while intro and blank[intro - 1]:
        intro -= 1
    line = lines[intro - 1].strip() if intro else ""
    if line.endswith(":") and len(line) < 300 and ("@" in line or _ATTRIBUTION_END.search(line)):
        return intro - 1
    return start


def _looks_like_signature_line(line: str) -> bool:
    """Whether a line after a sign-off reads like a name, title or contact detail rather than prose."""
    words = line.split()
    return len(line.strip()) <= 60 and (len(words) <= 4 or sum(w[:1].islower() for w in words) < 2)


def _signature_start(lines: list[str]) -> int:
    """Index where the signature begins in an already quote-free body, ``len(lines)`` if none.

    The signature starts at a ``-- `` line or a trailing "Sent from my ..." line, extended back to a
    sign-off ("Thanks,", "Best regards") that is followed only by short name/title/contact lines.
    """
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 2:
        return len(lines)
    start = next((i for i in reversed(content[1:]) if _SIG_DELIMITER.match(lines[i])), len(lines))
    if start == len(lines) and _MOBILE.match(lines[content[-1]]):
        start = content[-1]
    tail = [i for i in content if i < start][-8:]
    for pos, i in enumerate(tail):
        if i != content[0] and _SIGN_OFF.match(lines[i]):
            if all(_looks_like_signature_line(lines[j]) for j in tail[pos + 1:]):
                return i
    return start


def strip_text(text: str) -> tuple[str, str]:
    """Split a text body into the new reply and its signature, dropping the quoted history.

    :param text: the text/plain body.
    :return: ``(stripped text, stripped signature)``; the signature is ``""`` when none was found.
    """
    try:
        lines = text.replace("\r\n", "\n").split("\n")
        body = lines[:_quote_start(lines)]
        cut = _signature_start(body)
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
    return bool(_ORIGINAL.match(text) or _OUTLOOK_TEXT.match(text))


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
                if tok.tag != "br" or lines > 1 or not _ATTRIBUTION_END.search(joined):
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
