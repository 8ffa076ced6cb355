"""Reply-history and signature stripping (Mailgun's stripped-* fields), and HTML -> readable text. Pure.

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
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = ["html_to_text", "strip_html", "strip_text"]

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


_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_BLOCK = frozenset("address article aside blockquote body center dd div dl dt fieldset figure footer form h1 h2 h3 h4 "
                   "h5 h6 header hr html li main nav ol p pre section table tbody td tfoot th thead tr ul".split())
_OUTLOOK_BORDER = re.compile(r"border-top\s*:\s*solid\s+#(e1e1e1|b5c4df)", _I)
# Every marker strip_html acts on contains one of these; HTML without them is returned untouched
# without tokenizing, which is most of the cost.
_MARKERS = ("blockquote", "gmail_quote", "yahoo_quoted", "divrplyfwdmsg", "appendonsend", "border-top", "from", "--")


@dataclass(slots=True)
class _Token:
    """One piece of HTML source: a tag, text or other markup, with its offset in the source."""

    kind: str  # "start", "startend", "end", "data" or "other"
    tag: str
    attrs: dict[str, str]
    start: int
    text: str = ""


# The tokenizer below reproduces, token for token, what ``html.parser.HTMLParser`` (CPython 3.11,
# ``convert_charrefs=False``, one ``feed`` then ``close``) reports, offsets included: strip_html's
# rules count tokens (``tokens[i + 1:i + 8]``, 40- and 60-token windows), so a different split of
# the same text would change its output. It is about twice as fast as subclassing
# HTMLParser because it builds tokens directly from offsets, with no handler dispatch and no
# line/column bookkeeping. The regexes are html.parser's and _markupbase's, copied so the
# behaviour stays fixed whatever the interpreter's stdlib does. tests/test_stripping.py keeps the
# HTMLParser-based tokenizer as the reference and compares the two on generated tag soup.
_TEXT_END = re.compile("[&<]")
_STARTTAG_OPEN = re.compile("<[a-zA-Z]")
_CHARREF = re.compile("&#(?:[0-9]+|[xX][0-9a-fA-F]+)[^0-9a-fA-F]")
_ENTITYREF = re.compile("&([a-zA-Z][-.a-zA-Z0-9]*)[^a-zA-Z0-9]")
_INCOMPLETE = re.compile("&[a-zA-Z#]")
_TAGFIND = re.compile(r"([a-zA-Z][^\t\n\r\f />\x00]*)(?:\s|/(?!>))*")
_ATTRFIND = re.compile(
    r'((?<=[\'"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*'
    r'(\'[^\']*\'|"[^"]*"|(?![\'"])[^>\s]*))?(?:\s|/(?!>))*')
_STARTTAG_END = re.compile(r"""
  <[a-zA-Z][^\t\n\r\f />\x00]*       # tag name
  (?:[\s/]*                          # optional whitespace before attribute name
    (?:(?<=['"\s/])[^\s/>][^\s/=>]*  # attribute name
      (?:\s*=+\s*                    # value indicator
        (?:'[^']*'                   # LITA-enclosed value
          |"[^"]*"                   # LIT-enclosed value
          |(?!['"])[^>\s]*           # bare value
         )
        \s*                          # possibly followed by a space
       )?(?:\s|/(?!>))*
     )*
   )?
  \s*                                # trailing whitespace
""", re.VERBOSE)
# The common, well-formed start tag in one match: ASCII whitespace between attributes, plain names,
# single "=", and a bare value only when whitespace or ">" follows (html.parser's bare value would
# swallow a "/" before ">"). The lookaheads pin the tag and attribute names to the same maximal
# spans html.parser's regexes find, so any tag this matches tokenizes exactly as the general path
# below would; anything else takes that path.
_SIMPLE_STARTTAG = re.compile(
    r"<([a-zA-Z][^\t\n\r\f />\x00]*)(?=[\t\n\r\f />])"
    r"((?:[ \t\n\r\f]+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?=[ \t\n\r\f=/>])"
    r"(?:[ \t\n\r\f]*=[ \t\n\r\f]*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`/]+(?=[ \t\n\r\f>])))?)*)"
    r"[ \t\n\r\f]*(/?)>")
_SIMPLE_ATTR = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:[ \t\n\r\f]*=[ \t\n\r\f]*(\"[^\"]*\"|'[^']*'|[^\s\"'=<>`/]+))?")
_ENDTAGFIND = re.compile(r"</\s*([a-zA-Z][-.a-zA-Z0-9:_]*)\s*>")
_COMMENT_CLOSE = re.compile(r"--\s*>")
_DECLNAME = re.compile(r"[a-zA-Z][-_.a-zA-Z0-9]*\s*")
_SECTION_CLOSE = re.compile(r"]\s*]\s*>")
_MS_SECTION_CLOSE = re.compile(r"]\s*>")
# Script and style content is raw text up to the matching end tag.
_RAWTEXT_END = {tag: re.compile(r"</\s*%s\s*>" % tag, re.I) for tag in ("script", "style")}
# Only these start tags' attributes are ever read (_is_quote, _is_outlook_marker); skipping the
# others' values saves an unescape per attribute.
_ATTR_TAGS = frozenset(("div", "p", "hr"))
# Lower-case tags whose attributes are never read and which do not open raw text: the scan loop
# records these without a method call.
_PLAIN_TAGS = frozenset("a b i u s em strong span font br img table tbody thead tr td th ul ol li o:p body html head "
                        "meta link title center blockquote pre h1 h2 h3 h4 h5 h6 small sup sub".split())


class _Scanner:
    """One pass of html.parser's ``goahead`` over ``source``, appending tokens to ``tokens``.

    ``HTMLParser.feed`` runs that loop with ``end`` false and ``close`` runs it again with ``end``
    true from where the first stopped; the two differ only where input could be incomplete, so
    ``_tokenize`` runs ``scan`` twice the same way.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens: list[_Token] = []
        self.rawtext = ""  # the open script/style element, whose content is data

    def scan(self, i: int, end: bool) -> int:
        """Tokenize from offset ``i``; return where html.parser would have stopped."""
        source, n, add = self.source, len(self.source), self.tokens.append
        startswith = source.startswith
        while i < n:
            if self.rawtext:
                match = _RAWTEXT_END[self.rawtext].search(source, i)
                if not match:
                    break
                j = match.start()
            else:
                match = _TEXT_END.search(source, i)
                j = match.start() if match else n
            if i < j:
                add(_Token("data", "", {}, i))
            i = j
            if i == n:
                break
            if source[i] == "<":
                # Inline fast paths for the two commonest tokens; they give what the methods would.
                match = _SIMPLE_STARTTAG.match(source, i)
                if match and match.group(1) in _PLAIN_TAGS:
                    add(_Token("startend" if match.group(3) else "start", match.group(1), {}, i))
                    i = match.end()
                    continue
                if not self.rawtext:
                    match = _ENDTAGFIND.match(source, i)
                    if match:
                        add(_Token("end", match.group(1).lower(), {}, i))
                        i = match.end()
                        continue
                if _STARTTAG_OPEN.match(source, i):
                    k = self._starttag(i)
                elif startswith("</", i):
                    k = self._endtag(i)
                elif startswith("<!--", i):
                    match = _COMMENT_CLOSE.search(source, i + 4)
                    k = self._other(i, match.end() if match else -1)
                elif startswith("<?", i):
                    k = self._other(i, source.find(">", i + 2) + 1 or -1)
                elif startswith("<!", i):
                    k = self._declaration(i)
                elif i + 1 < n:
                    add(_Token("data", "", {}, i))
                    k = i + 1
                else:
                    break
                if k < 0:
                    if not end:
                        break
                    # close(): an unterminated construct is text up to the next ">" (or "<").
                    k = source.find(">", i + 1)
                    if k < 0:
                        k = source.find("<", i + 1)
                        if k < 0:
                            k = i + 1
                    else:
                        k += 1
                    add(_Token("data", "", {}, i))
                i = k
            elif startswith("&#", i):
                match = _CHARREF.match(source, i)
                if match:
                    add(_Token("data", "", {}, i))
                    i = match.end() - (source[match.end() - 1] != ";")
                    continue
                if source.find(";", i) >= 0:  # html.parser consumes "&#" and stops this pass
                    add(_Token("data", "", {}, i))
                    i += 2
                break
            else:
                match = _ENTITYREF.match(source, i)
                if match:
                    add(_Token("data", "", {}, i))
                    i = match.end() - (source[match.end() - 1] != ";")
                    continue
                match = _INCOMPLETE.match(source, i)
                if match:
                    if end and match.end() == n:
                        i += 1  # html.parser drops the "&" of a two-character tail such as "&a"
                    break
                if i + 1 < n:
                    add(_Token("data", "", {}, i))
                    i += 1
                else:
                    break
        if end and i < n and not self.rawtext:
            add(_Token("data", "", {}, i))
            i = n
        return i

    def _other(self, i: int, k: int) -> int:
        """Record a comment, declaration or processing instruction ending at ``k`` (-1: unterminated)."""
        if k >= 0:
            self.tokens.append(_Token("other", "", {}, i))
        return k

    def _declaration(self, i: int) -> int:
        """``<!...``: a marked section, a doctype or a bogus comment; -1 when unterminated."""
        source = self.source
        if source.startswith("<![", i):
            if i + 3 == len(source):
                return -1
            name = _DECLNAME.match(source, i + 3)
            if not name:  # html.parser raises here too; strip_html then returns its input
                raise AssertionError("expected name token in marked section")
            if name.end() == len(source):
                return -1
            keyword = name.group().strip().lower()
            if keyword in ("temp", "cdata", "ignore", "include", "rcdata"):
                match = _SECTION_CLOSE.search(source, i + 3)
            elif keyword in ("if", "else", "endif"):
                match = _MS_SECTION_CLOSE.search(source, i + 3)
            else:
                raise AssertionError("unknown status keyword in marked section")
            return self._other(i, match.end() if match else -1)
        if source[i:i + 9].lower() == "<!doctype":
            return self._other(i, source.find(">", i + 9) + 1 or -1)
        return self._other(i, source.find(">", i + 2) + 1 or -1)

    def _starttag(self, i: int) -> int:
        """A start tag at ``i`` (html.parser's parse_starttag); -1 when it may be incomplete."""
        source = self.source
        simple = _SIMPLE_STARTTAG.match(source, i)
        if simple:
            tag = simple.group(1).lower()
            attrs: dict[str, str] = {}
            if tag in _ATTR_TAGS:
                for attrname, value in _SIMPLE_ATTR.findall(simple.group(2)):
                    if value[:1] in ("'", '"'):
                        value = value[1:-1]
                    attrs[attrname.lower()] = htmllib.unescape(value) if value else ""
            self.tokens.append(_Token("startend" if simple.group(3) else "start", tag, attrs, i))
            if tag in _RAWTEXT_END and not simple.group(3):
                self.rawtext = tag
            return simple.end()
        j = _STARTTAG_END.match(source, i).end()  # type: ignore[union-attr]  # always matches "<x"
        following = source[j:j + 1]
        if following == ">":
            endpos = j + 1
        elif following == "/":
            if not source.startswith("/>", j):
                return -1
            endpos = j + 2
        elif not following or following in "abcdefghijklmnopqrstuvwxyz=/ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            return -1
        else:
            endpos = j
        name = _TAGFIND.match(source, i + 1)
        tag = name.group(1).lower()  # type: ignore[union-attr]
        k = name.end()  # type: ignore[union-attr]
        attrs = {}
        wanted = tag in _ATTR_TAGS
        while k < endpos:
            match = _ATTRFIND.match(source, k)
            if not match:
                break
            if wanted:
                attrname, rest, value = match.group(1, 2, 3)
                if not rest:
                    value = ""
                elif value[:1] == "'" == value[-1:] or value[:1] == '"' == value[-1:]:
                    value = value[1:-1]
                attrs[attrname.lower()] = htmllib.unescape(value) if value else ""
            k = match.end()
        closing = source[k:endpos].strip()
        if closing == ">":
            self.tokens.append(_Token("start", tag, attrs, i))
            if tag in _RAWTEXT_END:
                self.rawtext = tag
        elif closing == "/>":
            self.tokens.append(_Token("startend", tag, attrs, i))
        else:  # leftovers html.parser could not read as attributes: the whole tag is text
            self.tokens.append(_Token("data", "", {}, i))
        return endpos

    def _endtag(self, i: int) -> int:
        """An end tag at ``i`` (html.parser's parse_endtag); -1 when unterminated."""
        source = self.source
        gtpos = source.find(">", i + 1) + 1
        if not gtpos:
            return -1
        match = _ENDTAGFIND.match(source, i)
        if not match:
            if self.rawtext:
                self.tokens.append(_Token("data", "", {}, i))
                return gtpos
            name = _TAGFIND.match(source, i + 2)
            if not name:
                if source.startswith("</>", i):
                    return i + 3  # no token: "</>" joins the previous token's text
                return self._other(i, source.find(">", i + 2) + 1 or -1)
            self.tokens.append(_Token("end", name.group(1).lower(), {}, i))
            return source.find(">", name.end()) + 1
        tag = match.group(1).lower()
        if self.rawtext and tag != self.rawtext:
            self.tokens.append(_Token("data", "", {}, i))
            return gtpos
        self.tokens.append(_Token("end", tag, {}, i))
        self.rawtext = ""
        return gtpos


def _tokenize(source: str) -> list[_Token]:
    """Tokenize HTML and fill in each token's text from the source offsets."""
    scanner = _Scanner(source)
    scanner.scan(scanner.scan(0, end=False), end=True)
    tokens = scanner.tokens
    for tok, nxt in zip(tokens, tokens[1:]):
        tok.text = source[tok.start:nxt.start]
    if tokens:
        tokens[-1].text = source[tokens[-1].start:]
    return tokens


def _element_text(tokens: list[_Token], i: int, limit: int = 60) -> str:
    """The text of the next ``limit`` tokens from ``i``, unescaped and whitespace-collapsed."""
    text = "".join(htmllib.unescape(t.text) if t.kind == "data" else " " for t in tokens[i:i + limit])
    return " ".join(text.split())


def _matching_end(tokens: list[_Token], i: int) -> int | None:
    """Index of the end tag closing the element opened at ``i`` (counting same-name tags only)."""
    tag, depth = tokens[i].tag, 0
    for j in range(i, len(tokens)):
        if tokens[j].tag == tag and tokens[j].kind in ("start", "end"):
            depth += 1 if tokens[j].kind == "start" else -1
            if depth == 0:
                return j
    return None


def _is_quote(tok: _Token) -> bool:
    """Whether an element holds quoted history to remove whole (Gmail, Yahoo, Apple, any blockquote)."""
    classes = set(tok.attrs.get("class", "").split())
    return tok.tag == "blockquote" or (tok.tag == "div" and bool(classes & {"gmail_quote", "yahoo_quoted"}))


def _is_outlook_marker(tokens: list[_Token], i: int) -> bool:
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


def _drop_attribution(tokens: list[_Token], drop: list[bool], i: int) -> None:
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
        elif tok.tag == "br" or tok.tag in _BLOCK:
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
        if tokens[k].kind in ("start", "end") and tokens[k].tag not in _BLOCK:
            counts[tokens[k].tag] = counts.get(tokens[k].tag, 0) + (1 if tokens[k].kind == "start" else -1)
    for k in span:
        tok = tokens[k]
        if tok.kind == "data" or tok.tag == "br" or (
                tok.kind in ("start", "end") and tok.tag not in _BLOCK and counts.get(tok.tag) == 0):
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
        tokens = _tokenize(source)
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
        if tok.kind == "start" and tok.tag in _ATTR_TAGS and _is_outlook_marker(tokens, i):
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
        if tok.kind == "start" and tok.tag not in _VOID:
            stack.append(i)
        elif tok.kind == "end" and any(tokens[s].tag == tok.tag for s in stack):
            while stack and tokens[stack.pop()].tag != tok.tag:
                pass
        i += 1
    head = source[:tokens[0].start] if tokens else source
    return head + "".join(t.text for t, gone in zip(tokens, drop) if not gone)


class _TextExtractor(HTMLParser):
    """Render HTML as readable text: blocks on their own lines, links as ``text <url>``, quotes as ``>``."""

    _PARA = frozenset("p h1 h2 h3 h4 h5 h6 ul ol table pre blockquote".split())

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.skip = self.pre = self.quote = 0
        self.links: list[tuple[str, int]] = []

    def _flush(self, force: bool = False) -> None:
        line = "".join(self.cur)
        if not self.pre:
            line = " ".join(line.split())
        if line or force:
            self.lines.append("> " * self.quote + line if line else ">" * self.quote)
        self.cur = []

    def _para(self) -> None:
        self._flush()
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(">" * self.quote)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title", "noscript", "template"):
            self.skip += 1
        elif tag == "br":
            self._flush(force=True)
        elif tag in self._PARA or tag == "hr":
            self._para()
            self.quote += tag == "blockquote"
            self.pre += tag == "pre"
        elif tag == "li":
            self._flush()
            self.cur.append("- ")
        elif tag in _BLOCK:
            self._flush()
        elif tag in ("td", "th"):
            self.cur.append(" ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len("".join(self.cur))))
        elif tag == "img" and (alt := dict(attrs).get("alt")):
            self.cur.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title", "noscript", "template"):
            self.skip = max(0, self.skip - 1)
        elif tag == "a" and self.links:
            href, at = self.links.pop()
            label = " ".join("".join(self.cur)[at:].split())
            target = href[7:] if href.lower().startswith("mailto:") else href
            if href.lower().startswith(("http:", "https:", "mailto:")) and target != label:
                self.cur.append(f" <{target}>" if label else target)
        elif tag in self._PARA:
            self._flush()
            self.quote = max(0, self.quote - (tag == "blockquote"))
            self.pre = max(0, self.pre - (tag == "pre"))
            self._para()
        elif tag in _BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.cur.append(data)


def html_to_text(source: str) -> str:
    """Render an HTML body as plain text, as Mailgun does for body-plain when a message has no text part.

    :param source: the HTML.
    :return: readable text; scripts, styles and the head are dropped, entities decoded.
    """
    parser = _TextExtractor()
    try:
        parser.feed(source)
        parser.close()
    except Exception:  # pragma: no cover - html.parser is lenient; keep whatever was rendered
        log.debug("HTML could not be fully rendered as text", exc_info=True)
    parser._flush()
    text = "\n".join(line.rstrip() for line in parser.lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
