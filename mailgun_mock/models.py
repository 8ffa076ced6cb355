"""The mock's records as plain dataclasses, each rendering itself in Mailgun's JSON shape."""

from __future__ import annotations

import dataclasses
from email.utils import formatdate
from typing import Any

__all__ = ["DeliveryAttempt", "Route", "StoredMessage", "rfc1123"]


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


@dataclasses.dataclass(frozen=True)
class StoredMessage:
    """A message kept by ``store()`` (or a forwarded copy), retrievable until ``expires_at``.

    :param key: the storage key: URL-safe, unguessable, no ``/``.
    :param recipients: the envelope recipients it was stored for.
    """

    key: str
    domain: str
    raw: bytes
    recipients: tuple[str, ...]
    sender: str
    message_id: str
    stored_at: float
    expires_at: float

    def storage_url(self, base_url: str) -> str:
        """``{base}/v3/domains/{domain}/messages/{key}``: where clients fetch it."""
        return f"{base_url}/v3/domains/{self.domain}/messages/{self.key}"


@dataclasses.dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of a webhook (forward, notify…) and what came of it.

    :param delivery_id: the delivery this attempt belongs to (all its attempts share it).
    :param kind: ``forward``, ``forward-mime`` or ``notify``.
    :param attempt: 1 for the first try, 2 for the first retry…
    :param status: the HTTP status answered, or ``None`` when there was no answer.
    :param error: why there was no usable answer (refused, timeout…), else ``None``.
    :param outcome: ``delivered``, ``retrying``, ``failed`` (retries exhausted) or ``rejected`` (406).
    :param scheduled_at: the mock-clock time the attempt was due.
    :param attempted_at: the mock-clock time it ran.
    :param next_retry: the mock-clock time of the next attempt, if one is scheduled.
    :param fields: the names of the form fields posted, in order.
    """

    delivery_id: str
    kind: str
    url: str
    recipient: str
    message_id: str
    attempt: int
    status: int | None
    error: str | None
    outcome: str
    duration: float
    scheduled_at: float
    attempted_at: float
    next_retry: float | None
    fields: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The attempt as ``GET /mock/deliveries`` lists it."""
        return {
            "attempt": self.attempt,
            "attempted_at": self.attempted_at,
            "delivery_id": self.delivery_id,
            "duration": round(self.duration, 6),
            "error": self.error,
            "fields": list(self.fields),
            "kind": self.kind,
            "message_id": self.message_id,
            "next_retry": self.next_retry,
            "outcome": self.outcome,
            "recipient": self.recipient,
            "scheduled_at": self.scheduled_at,
            "status": self.status,
            "url": self.url,
        }
