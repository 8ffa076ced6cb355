"""The mock's records as plain dataclasses, each rendering itself in Mailgun's JSON shape.

Besides ``to_json`` (what the API shows), every record has ``to_dict``/``from_dict``: the
snapshot shape, JSON-ready (lists for tuples, base64 for bytes) and exact on a round trip.
``from_dict`` raises ``ValueError`` naming the record and the field when the data doesn't fit.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping
from email.utils import formatdate
from typing import Any, Literal
from urllib.parse import quote

from .logtext import shorten

__all__ = ["DeliveryAttempt", "ListKind", "Route", "SentMessage", "StoredMessage", "SuppressionHit",
           "SuppressionRecord", "rfc1123"]

# What a snapshot field may hold, by kind; a trailing "?" also allows null. Numbers are kept as
# given (int or float), never converted, so a round trip is exact.
_KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "str": ("a string", lambda v: isinstance(v, str)),
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "strs": ("a list of strings", lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
}
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

_Spec = tuple[frozenset[str], tuple[tuple[str, str, Callable[[Any], bool]], ...]]


def _spec(kinds: Mapping[str, str]) -> _Spec:
    """A record's snapshot fields and, for each, what it must be and how to check it."""
    checks = []
    for field, kind in kinds.items():
        what, check = _KINDS[kind.rstrip("?")]
        if kind.endswith("?"):
            what, check = "null or " + what, (lambda inner: lambda v: v is None or inner(v))(check)
        checks.append((field, what, check))
    return frozenset(kinds), tuple(checks)


def _read(cls: type, data: Mapping[str, Any], spec: _Spec) -> dict[str, Any]:
    """``data`` as a fresh dict, once its keys are exactly the spec's and each value fits.

    :raises ValueError: naming the record and the field that is missing, unexpected or mistyped.
    """
    name = cls.__name__
    if not isinstance(data, Mapping):
        raise ValueError(f"{name}: expected an object, got {type(data).__name__}")
    keys, checks = spec
    if data.keys() != keys:
        missing = sorted(keys - set(data))
        if missing:
            raise ValueError(f"{name}: missing field(s) {', '.join(missing)}")
        raise ValueError(f"{name}: unexpected field(s) {', '.join(sorted(map(str, set(data) - keys)))}")
    for field, what, check in checks:
        if not check(data[field]):
            raise ValueError(f"{name}: field {field!r} must be {what}, got {shorten(data[field])}")
    return dict(data)



def _is_base64(text: str) -> bool:
    """Whether ``text`` is standard base64 that decodes without error (checked without decoding)."""
    if len(text) % 4 or not text.isascii():
        return False
    body = text.encode("ascii")
    pad = body.find(b"=")
    if pad != -1:
        if pad < len(body) - 2 or body[pad:] != b"=" * (len(body) - pad):
            return False
        body = body[:pad]
    return not body.translate(None, _BASE64_ALPHABET)


class _LazyRaw:
    """``StoredMessage.raw``: bytes, but a message loaded from a snapshot decodes its base64 text
    only when ``raw`` is first read.

    Loading a large snapshot then costs no base64 decoding at all (most stored messages are never
    fetched again), and a message read by two threads at once is merely decoded twice.
    """

    def __get__(self, message: object, owner: type | None = None) -> bytes:
        if message is None:
            raise AttributeError("raw")  # no class-level default (dataclasses asks)
        cached = message.__dict__
        raw: bytes | None = cached.get("_raw")
        if raw is None:
            raw = cached["_raw"] = base64.b64decode(cached["_raw_base64"])
        return raw

    def __set__(self, message: object, raw: bytes) -> None:
        message.__dict__["_raw"] = raw


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

    def to_dict(self) -> dict[str, Any]:
        """The route as a snapshot keeps it (every field, ``seq`` included)."""
        return {
            "actions": list(self.actions),
            "created_at": self.created_at,
            "description": self.description,
            "expression": self.expression,
            "id": self.id,
            "priority": self.priority,
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Route:
        """The route :meth:`to_dict` made.

        :raises ValueError: when a field is missing, unexpected or of the wrong type.
        """
        fields = _read(cls, data, _ROUTE)
        fields["actions"] = tuple(fields["actions"])
        return cls(**fields)


@dataclasses.dataclass(frozen=True)
class StoredMessage:
    """A message kept by ``store()`` (or a forwarded copy), retrievable until ``expires_at``.

    :param key: the storage key: URL-safe, unguessable, no ``/``.
    :param recipients: the envelope recipients it was stored for.
    """

    key: str
    domain: str
    raw: bytes  # after a snapshot load, decoded on first read: see _LazyRaw
    recipients: tuple[str, ...]
    sender: str
    message_id: str
    stored_at: float
    expires_at: float

    def storage_url(self, base_url: str) -> str:
        """``{base}/v3/domains/{domain}/messages/{key}``: where clients fetch it."""
        return f"{base_url}/v3/domains/{quote(self.domain, safe='')}/messages/{self.key}"

    def to_dict(self) -> dict[str, Any]:
        """The message as a snapshot keeps it: ``raw`` in standard base64.

        The base64 text is made once per message and kept in place of the bytes (as is the text
        a message was loaded from), so saving a large store again only encodes the messages new
        since, and memory holds one copy of each message. ``raw`` decodes it again when read.
        """
        cached = self.__dict__
        text: str | None = cached.get("_raw_base64")
        if text is None:
            text = cached["_raw_base64"] = base64.b64encode(self.raw).decode("ascii")
            cached.pop("_raw", None)  # after the text is in place: a concurrent reader decodes it
        return {
            "domain": self.domain,
            "expires_at": self.expires_at,
            "key": self.key,
            "message_id": self.message_id,
            "raw": text,
            "recipients": list(self.recipients),
            "sender": self.sender,
            "stored_at": self.stored_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredMessage:
        """The message :meth:`to_dict` made; ``raw`` is checked now and decoded on first read.

        :raises ValueError: when a field is missing, unexpected or of the wrong type, or ``raw``
            is not valid base64.
        """
        fields = _read(cls, data, _MESSAGE)
        text = fields.pop("raw")
        if not _is_base64(text):
            raise ValueError(f"StoredMessage {fields['key']!r}: field 'raw' is not valid base64")
        fields["recipients"] = tuple(fields["recipients"])
        # Built as copy and pickle build instances, so that raw is left to decode on first read.
        message = cls.__new__(cls)
        message.__dict__.update(fields, _raw_base64=text)
        return message


# Installed after the class is made, so the dataclass sees a plain required ``bytes`` field;
# its __init__ (object.__setattr__) and every read then go through the descriptor.
setattr(StoredMessage, "raw", _LazyRaw())


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
        """The attempt as ``GET /mock/deliveries`` lists it (``duration`` rounded to the microsecond)."""
        return {**self.to_dict(), "duration": round(self.duration, 6)}

    def to_dict(self) -> dict[str, Any]:
        """The attempt as a snapshot keeps it (unlike :meth:`to_json`, ``duration`` unrounded)."""
        return {
            "attempt": self.attempt,
            "attempted_at": self.attempted_at,
            "delivery_id": self.delivery_id,
            "duration": self.duration,
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryAttempt:
        """The attempt :meth:`to_dict` made.

        :raises ValueError: when a field is missing, unexpected or of the wrong type.
        """
        fields = _read(cls, data, _ATTEMPT)
        fields["fields"] = tuple(fields["fields"])
        return cls(**fields)


@dataclasses.dataclass(frozen=True)
class SentMessage:
    """A message sent through the API (``/messages``, ``messages.mime`` or a resend): the outbox.

    :param message_id: the id the API answered, with its angle brackets.
    :param storage_keys: where the built MIME is stored: one key, or one per recipient when
        recipient-variables made a message each.
    :param recipients: every envelope recipient.
    """

    message_id: str
    domain: str
    storage_keys: tuple[str, ...]
    recipients: tuple[str, ...]
    sender: str
    subject: str
    tags: tuple[str, ...]
    test_mode: bool
    sent_at: float
    deliver_at: float

    def to_dict(self) -> dict[str, Any]:
        """The sent message as a snapshot keeps it."""
        return {
            "deliver_at": self.deliver_at,
            "domain": self.domain,
            "message_id": self.message_id,
            "recipients": list(self.recipients),
            "sender": self.sender,
            "sent_at": self.sent_at,
            "storage_keys": list(self.storage_keys),
            "subject": self.subject,
            "tags": list(self.tags),
            "test_mode": self.test_mode,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SentMessage:
        """The sent message :meth:`to_dict` made.

        :raises ValueError: when a field is missing, unexpected or of the wrong type.
        """
        fields = _read(cls, data, _SENT)
        for name in ("recipients", "storage_keys", "tags"):
            fields[name] = tuple(fields[name])
        return cls(**fields)


_ROUTE = _spec({"actions": "strs", "created_at": "number", "description": "str", "expression": "str",
                "id": "str", "priority": "int", "seq": "int"})
_MESSAGE = _spec({"domain": "str", "expires_at": "number", "key": "str", "message_id": "str", "raw": "str",
                  "recipients": "strs", "sender": "str", "stored_at": "number"})
_ATTEMPT = _spec({"attempt": "int", "attempted_at": "number", "delivery_id": "str", "duration": "number",
                  "error": "str?", "fields": "strs", "kind": "str", "message_id": "str", "next_retry": "number?",
                  "outcome": "str", "recipient": "str", "scheduled_at": "number", "status": "int?", "url": "str"})
_SENT = _spec({"deliver_at": "number", "domain": "str", "message_id": "str", "recipients": "strs", "sender": "str",
               "sent_at": "number", "storage_keys": "strs", "subject": "str", "tags": "strs", "test_mode": "bool"})


ListKind = Literal["bounces", "unsubscribes", "complaints"]
"""The suppression lists a domain has."""


@dataclasses.dataclass(frozen=True)
class SuppressionHit:
    """Why a send to an address is dropped: the list it is on, and the failed event's fields."""

    kind: ListKind
    reason: str
    code: int
    description: str


@dataclasses.dataclass(frozen=True)
class SuppressionRecord:
    """One record to put on a suppression list, as the API or an import gives it.

    :param tag: unsubscribes: the tag (``None``: every tag); allowlist: ``address`` or ``domain``.
    :param error: bounces: the SMTP reply text; allowlist: the reason.
    """

    address: str
    created_at: float
    code: int = 550
    error: str = ""
    tag: str | None = None
