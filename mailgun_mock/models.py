"""The mock's records as plain dataclasses, each rendering itself in Mailgun's JSON shape."""

from __future__ import annotations

import dataclasses
from email.utils import formatdate
from typing import Any

__all__ = ["Route", "rfc1123"]


def rfc1123(timestamp: float) -> str:
    """Mailgun's date format for routes: ``Wed, 15 Feb 2012 13:03:31 GMT``."""
    return formatdate(timestamp, usegmt=True)


@dataclasses.dataclass(frozen=True)
class Route:
    """A Mailgun route. Immutable: an update stores a new instance.

    :param seq: the store's insertion counter, which breaks ties between routes created in the
        same second (Mailgun consults equal priorities in creation order).
    """

    id: str
    priority: int
    description: str
    expression: str
    actions: tuple[str, ...]
    created_at: float
    seq: int = 0

    @property
    def sort_key(self) -> tuple[int, float, int]:
        """Evaluation and listing order: priority ascending, then creation."""
        return (self.priority, self.created_at, self.seq)

    def to_json(self) -> dict[str, Any]:
        """The route as Mailgun's API shows it (``actions`` plural, RFC 1123 ``created_at``)."""
        return {
            "actions": list(self.actions),
            "created_at": rfc1123(self.created_at),
            "description": self.description,
            "expression": self.expression,
            "id": self.id,
            "priority": self.priority,
        }
