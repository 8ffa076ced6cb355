"""HTML rendered as readable text (Mailgun's synthesised ``body-plain`` for HTML-only mail). Pure."""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser

from .html_scan import BLOCK, VOID

__all__ = ["html_to_text"]

log = logging.getLogger("mailgun_mock")


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
        elif tag in BLOCK:
            self._flush()
        elif tag in ("td", "th"):
            self.cur.append(" ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len("".join(self.cur))))
        elif tag == "img" and (alt := dict(attrs).get("alt")):
            self.cur.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
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
        elif tag in BLOCK:
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
