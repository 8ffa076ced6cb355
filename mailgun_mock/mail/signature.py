"""Where the signature starts in a reply whose quoted history is already gone: Mailgun's ``stripped-signature``. Pure.

A signature is cut only on a strong marker, and never when it would leave no text: the ``-- ``
delimiter, the line a phone or app appends ("Sent from my iPhone" and its translations), or a closing
formula ("Best regards,", "Mit freundlichen Grüßen") followed by nothing but short name, title and
contact lines.
"""

from __future__ import annotations

import re

from .reply_markers import is_mobile_signature, is_sign_off

__all__ = ["signature_start"]

_DELIMITER = re.compile(r"--[ \t]?\r?$")
_PHONE = re.compile(r"^[\s+()\d./-]*\d[\s()\d./-]{5,}$|\b(?i:tel|phone|mobile|fax|mob|t|m|f)\b\.?\s*[:.]?\s*\+?\d")
_TAIL = 8  # a closing formula further up than this many content lines from the end is part of the text


def _signature_line(line: str) -> bool:
    """Whether a line after a closing formula reads like a name, title or contact detail rather than prose."""
    text = line.strip()
    words = text.split()
    if len(text) > 60 or text.endswith("?"):
        return False
    return (len(words) <= 4 or "|" in text or "@" in text or _PHONE.search(text) is not None
            or sum(w[:1].islower() for w in words) * 2 < len(words))


def signature_start(lines: list[str]) -> int:
    """Index of the first signature line in quote-free ``lines``, ``len(lines)`` when there is none."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    if len(content) < 2:
        return len(lines)
    start = next((i for i in reversed(content[1:]) if _DELIMITER.match(lines[i])), len(lines))
    if start == len(lines) and is_mobile_signature(lines[content[-1]]):
        start = content[-1]
    tail = [i for i in content if i < start][-_TAIL:]
    for pos, i in enumerate(tail):
        if i != content[0] and is_sign_off(lines[i]) and all(_signature_line(lines[j]) for j in tail[pos + 1:]):
            return i
    return start
