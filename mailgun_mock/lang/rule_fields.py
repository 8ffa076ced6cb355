"""Readers of a mock rule's simple fields (pure): each returns the value or raises ``BadRequest``
saying which field is wrong and how. :mod:`.send_rules` parses a whole rule with them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..base.errors import BadRequest
from ..base.logtext import shorten

__all__ = ["choice", "int_field", "tag", "text"]


def choice(fields: Mapping[str, Any], key: str, allowed: Sequence[str] | None) -> str | None:
    """A rule's engagement ``country`` (two letters, kept upper case) or ``device`` (one of ``allowed``)."""
    value = fields.get(key)
    if value is None:
        return None
    if allowed is None:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value):
            raise BadRequest(f"'{key}' must be a two-letter country code, got {shorten(value)}")
        return value.upper()
    if value not in allowed:
        raise BadRequest(f"'{key}' must be one of {', '.join(allowed)}, got {shorten(value)}")
    return str(value)


def tag(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'match.tag' must be a non-empty string, got {shorten(value)}")
    return value


def int_field(fields: Mapping[str, Any], key: str, low: int, high: int, default: int | None) -> int | None:
    value = fields.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"'{key}' must be an integer from {low} to {high}, got {shorten(value)}")
    return value


def text(fields: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = fields.get(key, default)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'{key}' must be a string, got {shorten(value)}")
    return value
