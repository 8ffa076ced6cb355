"""Making client-supplied text safe for one log line (or an SMTP reply): no control characters."""

from __future__ import annotations

__all__ = ["printable", "shorten"]


def printable(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, with every non-printable character (CR, LF, ESC, NUL,
    U+2028…) written as a ``\\xNN``/``\\uNNNN`` escape and lone surrogates made encodable."""
    text = text[:limit].encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def shorten(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters with ``...``: how an error message quotes bad input."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
