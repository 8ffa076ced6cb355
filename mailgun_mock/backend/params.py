"""Reading request parameters as Mailgun does: integers given as text, length limits, envelope
address lists. Pure; raises :class:`~mailgun_mock.base.errors.BadRequest` with Mailgun's messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..base.errors import BadRequest

__all__ = ["ADDRESS", "FIELD_LIMIT", "clean_addresses", "integer", "limited"]

# Mailgun: "The Filter field and the Action field may each be at most 4k characters".
FIELD_LIMIT = 4096
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")  # ASCII digits only; longer is out of range anyway
_INT64 = 2**63
#: An envelope address: a local part without spaces, controls or address punctuation, and a domain
#: of (Unicode) letters, digits, hyphens and dots.
ADDRESS = re.compile(r'[^\s@<>()\[\],;"\\\x00-\x1f\x7f-\x9f]+@[\w-]+(\.[\w-]+)*\.?')


def integer(value: str | int | None, name: str, default: int) -> int:
    """Read an integer parameter given as text (from a form or query) or as an int."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise BadRequest(f"The '{name}' parameter must be an integer")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not _INTEGER.fullmatch(text):
            raise BadRequest(f"The '{name}' parameter must be an integer, got {_quote(text)}")
        number = int(text)
    if not -_INT64 <= number < _INT64:
        raise BadRequest(f"The '{name}' parameter is out of range")
    return number


def _quote(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def limited(value: str, name: str) -> str:
    """``value``, unless longer than Mailgun's limit for the ``name`` field."""
    if len(value) > FIELD_LIMIT:
        raise BadRequest(f"The '{name}' parameter is too long: {len(value)} characters, at most {FIELD_LIMIT}")
    return value


def clean_addresses(values: Sequence[str]) -> list[str]:
    """Envelope recipients given as a list, each possibly comma-separated; deduplicated, order kept."""
    seen: dict[str, str] = {}
    for value in values:
        for part in value.split(","):
            address = part.strip().strip("<>").strip()
            if address and address.lower() not in seen:
                seen[address.lower()] = address
    return list(seen.values())
