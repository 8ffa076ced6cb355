"""The one-line call syntax shared by route filters and actions: a lexer and a parser base (pure).

Both languages are built from calls, ``NAME "(" [arg ("," arg)*] ")"`` with ``arg := STRING | NAME "=" STRING``.
Strings take single or double quotes and are read like Python raw strings: a backslash keeps the character
after it, and an escaped quote does not end the string. :mod:`mailgun_mock.lang.filters` adds the boolean
operators of filters; :mod:`mailgun_mock.lang.actions` reads a single call.
"""

from __future__ import annotations

import dataclasses

from ..base.errors import ExpressionError

__all__ = ["Call", "KEYWORDS", "Parser", "Token", "tokenize"]

#: The filter operators; reserved in both languages, so they are never read as function names.
KEYWORDS = ("and", "or", "not")
_PUNCT = "(),="


@dataclasses.dataclass(frozen=True)
class Token:
    """One lexeme: its kind (``name``, ``string``, ``(``, ``)``, ``,``, ``=`` or ``end``), text and offset."""

    kind: str  # "name", "string", "(", ")", ",", "=", "end"
    text: str
    pos: int


@dataclasses.dataclass(frozen=True)
class Call:
    """One parsed call: the function name, its positional and keyword string arguments, and its offset."""

    name: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    pos: int

    def source(self) -> str:
        """The call written back with its positional arguments, for explanations."""
        return f"{self.name}({', '.join(repr(a) for a in self.args)})"


def tokenize(text: str) -> list[Token]:
    """Split one line into tokens, ending with an ``end`` token.

    :raises ExpressionError: for a line break, an unclosed string or a character outside the syntax.
    """
    if "\n" in text or "\r" in text:
        raise ExpressionError("expressions must fit on one line", text.find("\n") if "\n" in text else text.find("\r"))
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in _PUNCT:
            tokens.append(Token(c, c, i))
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise ExpressionError(f"unbalanced quotes: the string opened with {c} is never closed", i)
            tokens.append(Token("string", text[i + 1 : j], i))
            i = j + 1
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("name", text[i:j], i))
            i = j
        else:
            hint = "; patterns are quoted strings, e.g. match_recipient(\".*@example.com\")" if c in "@.*\\^$[+?|" else ""
            raise ExpressionError(f"unexpected character {c!r}{hint}", i)
    tokens.append(Token("end", "", n))
    return tokens


class Parser:
    """A recursive-descent parser over :func:`tokenize`'s tokens; subclasses add their grammar.

    :param text: the line to parse.
    :param what: what the line is (``expression``, ``action``), for error messages.
    :raises ExpressionError: from :func:`tokenize`.
    """

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        """The current token."""
        return self.tokens[self.i]

    def take(self, kind: str, expected: str) -> Token:
        """Consume and return the current token if it is of ``kind``, else say ``expected`` was wanted."""
        tok = self.tok
        if tok.kind != kind:
            found = "the end of the " + self.what if tok.kind == "end" else repr(tok.text)
            raise ExpressionError(f"expected {expected}, found {found}", tok.pos)
        self.i += 1
        return tok

    def is_keyword(self, word: str) -> bool:
        """Whether the current token is the operator ``word``."""
        return self.tok.kind == "name" and self.tok.text == word

    def call(self) -> Call:
        """Parse one call: ``NAME "(" [arg ("," arg)*] ")"``, positional arguments first."""
        name = self.take("name", "a function call")
        if name.text in KEYWORDS:
            raise ExpressionError(f"expected a function call, found {name.text!r}", name.pos)
        if self.tok.kind != "(":
            hint = f" (operators are lowercase: {', '.join(KEYWORDS)})" if name.text.lower() in KEYWORDS else ""
            raise ExpressionError(f"expected '(' after {name.text!r}{hint}", self.tok.pos)
        self.i += 1
        args: list[str] = []
        kwargs: list[tuple[str, str]] = []
        while self.tok.kind != ")":
            if args or kwargs:
                self.take(",", "',' or ')'")
            if self.tok.kind == "name":
                key = self.take("name", "an argument")
                self.take("=", f"'=' after {key.text!r}")
                kwargs.append((key.text, self.take("string", "a quoted string").text))
            else:
                if kwargs:
                    raise ExpressionError("positional argument after keyword argument", self.tok.pos)
                args.append(self.take("string", "a quoted string or ')'").text)
        self.i += 1
        return Call(name.text, tuple(args), tuple(kwargs), name.pos)

    def finish(self) -> None:
        """Refuse anything left after the parsed line, naming a miscased operator as such."""
        if self.tok.kind == "name" and self.tok.text.lower() in KEYWORDS and self.tok.text not in KEYWORDS:
            raise ExpressionError(f"unknown operator {self.tok.text!r} (operators are lowercase: and, or, not)", self.tok.pos)
        if self.tok.kind != "end":
            raise ExpressionError(f"unexpected {self.tok.text!r} after the end of the {self.what}", self.tok.pos)
