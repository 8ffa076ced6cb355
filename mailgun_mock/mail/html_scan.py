"""A fast, tolerant HTML tokenizer: tags, text and other markup with their source offsets. Pure.

It follows the grammar of the stdlib's ``html.parser`` (its patterns are copied, and a test pins them
to the stdlib's) but only records where each token starts, so a caller can drop tokens and keep every
other byte of the source as it was. Quote stripping (:mod:`.quotes`) is its user.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass

__all__ = ["ATTR_TAGS", "BLOCK", "VOID", "Token", "tokenize"]

VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
BLOCK = frozenset("address article aside blockquote body center dd div dl dt fieldset figure footer form h1 h2 h3 h4 "
                   "h5 h6 header hr html li main nav ol p pre section table tbody td tfoot th thead tr ul".split())
@dataclass(slots=True)
class Token:
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
ATTR_TAGS = frozenset(("div", "p", "hr"))
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
        self.tokens: list[Token] = []
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
                add(Token("data", "", {}, i))
            i = j
            if i == n:
                break
            if source[i] == "<":
                # Inline fast paths for the two commonest tokens; they give what the methods would.
                match = _SIMPLE_STARTTAG.match(source, i)
                if match and match.group(1) in _PLAIN_TAGS:
                    add(Token("startend" if match.group(3) else "start", match.group(1), {}, i))
                    i = match.end()
                    continue
                if not self.rawtext:
                    match = _ENDTAGFIND.match(source, i)
                    if match:
                        add(Token("end", match.group(1).lower(), {}, i))
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
                    add(Token("data", "", {}, i))
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
                    add(Token("data", "", {}, i))
                i = k
            elif startswith("&#", i):
                match = _CHARREF.match(source, i)
                if match:
                    add(Token("data", "", {}, i))
                    i = match.end() - (source[match.end() - 1] != ";")
                    continue
                if source.find(";", i) >= 0:  # html.parser consumes "&#" and stops this pass
                    add(Token("data", "", {}, i))
                    i += 2
                break
            else:
                match = _ENTITYREF.match(source, i)
                if match:
                    add(Token("data", "", {}, i))
                    i = match.end() - (source[match.end() - 1] != ";")
                    continue
                match = _INCOMPLETE.match(source, i)
                if match:
                    if end and match.end() == n:
                        i += 1  # html.parser drops the "&" of a two-character tail such as "&a"
                    break
                if i + 1 < n:
                    add(Token("data", "", {}, i))
                    i += 1
                else:
                    break
        if end and i < n and not self.rawtext:
            add(Token("data", "", {}, i))
            i = n
        return i

    def _other(self, i: int, k: int) -> int:
        """Record a comment, declaration or processing instruction ending at ``k`` (-1: unterminated)."""
        if k >= 0:
            self.tokens.append(Token("other", "", {}, i))
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
            if tag in ATTR_TAGS:
                for attrname, value in _SIMPLE_ATTR.findall(simple.group(2)):
                    if value[:1] in ("'", '"'):
                        value = value[1:-1]
                    attrs[attrname.lower()] = htmllib.unescape(value) if value else ""
            self.tokens.append(Token("startend" if simple.group(3) else "start", tag, attrs, i))
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
        wanted = tag in ATTR_TAGS
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
            self.tokens.append(Token("start", tag, attrs, i))
            if tag in _RAWTEXT_END:
                self.rawtext = tag
        elif closing == "/>":
            self.tokens.append(Token("startend", tag, attrs, i))
        else:  # leftovers html.parser could not read as attributes: the whole tag is text
            self.tokens.append(Token("data", "", {}, i))
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
                self.tokens.append(Token("data", "", {}, i))
                return gtpos
            name = _TAGFIND.match(source, i + 2)
            if not name:
                if source.startswith("</>", i):
                    return i + 3  # no token: "</>" joins the previous token's text
                return self._other(i, source.find(">", i + 2) + 1 or -1)
            self.tokens.append(Token("end", name.group(1).lower(), {}, i))
            return source.find(">", name.end()) + 1
        tag = match.group(1).lower()
        if self.rawtext and tag != self.rawtext:
            self.tokens.append(Token("data", "", {}, i))
            return gtpos
        self.tokens.append(Token("end", tag, {}, i))
        self.rawtext = ""
        return gtpos


def tokenize(source: str) -> list[Token]:
    """Tokenize HTML and fill in each token's text from the source offsets."""
    scanner = _Scanner(source)
    scanner.scan(scanner.scan(0, end=False), end=True)
    tokens = scanner.tokens
    for tok, nxt in zip(tokens, tokens[1:]):
        tok.text = source[tok.start:nxt.start]
    if tokens:
        tokens[-1].text = source[tokens[-1].start:]
    return tokens
