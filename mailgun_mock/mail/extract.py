"""What a test script wants from a message: its links and its one-time codes (pure).

``links`` are the http(s) URLs of the HTML part's ``<a>``/``<area>`` links, then those written in the
text part, de-duplicated, in order. ``codes`` are the tokens of 4 to 10 digits or capital letters
(with at least one digit) that stand near a word such as *code*, *PIN*, *verification* or *código*,
in the subject and the text; a caller's own regular expression can replace that finder.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import regex

__all__ = ["KEYWORDS", "find_codes", "find_links"]

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
#: The words a one-time code stands near, in a few languages (matched ignoring case, as word starts).
KEYWORDS = ("code", "codes", "pin", "passcode", "otp", "one-time", "one time", "verification", "verify", "confirm",
            "confirmation", "security", "token", "código", "codigo", "verificación", "verificação", "bestätigungscode",
            "sicherheitscode", "kod", "tan", "2fa", "mfa", "login")
_KEYWORD = re.compile(r"(?<![\w])(?:%s)\w*" % "|".join(re.escape(k) for k in KEYWORDS), re.IGNORECASE)
# 4-10 characters of digits and capitals with a digit among them; digits may come in groups split
# by one space or hyphen ("123 456", "123-456").
_CODE = re.compile(r"(?<![\w@/.:=-])(?=[A-Z0-9 -]*[0-9])([0-9]{3,5}[ -][0-9]{3,5}|[A-Z0-9]{4,10})(?![\w@/-]|\.\w)")
_NEAR = 60  # characters after a keyword (or before it) where its code may stand


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "area"):
            for name, value in attrs:
                if name == "href" and value:
                    self.found.append(value.strip())


def find_links(html: str, text: str) -> list[str]:
    """The http(s) links of ``html`` (its ``href`` attributes) then of ``text``, de-duplicated, in order."""
    candidates: list[str] = []
    if html:
        parser = _Hrefs()
        try:
            parser.feed(html)
            parser.close()
        except Exception:  # html.parser is tolerant; a pathological document only loses its links
            pass
        candidates += [u for u in parser.found if u.lower().startswith(("http://", "https://"))]
    candidates += [m.group(0).rstrip(_TRAILING) for m in _URL.finditer(text or "")]
    return list(dict.fromkeys(u for u in candidates if len(u) > len("https://")))


def find_codes(text: str, pattern: str | None = None, timeout: float = 0.1) -> list[str]:
    """One-time codes in ``text``, de-duplicated, in order.

    :param pattern: a regular expression replacing the finder: each match is a code (its first group
        if it has one).
    :param timeout: seconds ``pattern`` may run (a timeout yields what was found so far).
    :raises ValueError: for a ``pattern`` that does not compile, saying why.
    """
    if pattern is not None:
        try:
            compiled = regex.compile(pattern)
        except (regex.error, OverflowError, RecursionError) as exc:
            raise ValueError(f"'pattern' is not a valid regular expression: {exc}") from None
        found: list[str] = []
        try:
            for hit in compiled.finditer(text, timeout=timeout):
                found.append(hit.group(1) if compiled.groups else hit.group(0))
        except TimeoutError:
            pass
        return list(dict.fromkeys(c for c in found if c))
    # Codes after their keyword ("your code is 123456") come first, then those before it ("123456 is
    # your code"), each group in text order.
    codes: list[tuple[int, int, str]] = []
    for keyword in _KEYWORD.finditer(text):
        start = max(0, keyword.start() - _NEAR // 2)
        window = text[start:keyword.end() + _NEAR]
        for match in _CODE.finditer(window):
            at = start + match.start(1)
            codes.append((0 if at >= keyword.end() else 1, at, match.group(1)))
    return list(dict.fromkeys(code for _, _, code in sorted(codes)))
