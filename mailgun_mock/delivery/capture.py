"""The bytes of recent webhook POSTs, kept for the web inbox: what was posted (decoded), with its
signature, paired with the attempt it belongs to; and each delivery's webhook, to replay it.

:class:`PostLog` is a :class:`~.worker.Transport` wrapping the real one and a worker listener: the
worker calls ``post`` and then its listeners on the same thread, so a thread-local slot pairs each
POST with its attempt. Nothing here is state to save: it is a bounded cache, emptied on reset.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from collections import OrderedDict
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from ..base.records import DeliveryAttempt
from .transport import HttpTransport, Transport
from .worker import Webhook

__all__ = ["Posted", "PostLog", "decode_body"]

_VALUE_LIMIT = 20_000  # characters of one field kept for display
_LAZY_LIMIT = 64 * 1024  # bytes of a body kept undecoded until shown


@dataclasses.dataclass(frozen=True)
class Posted:
    """One POST as sent: its decoded fields (``[name, value]``; files as ``[name, "<file …>"]``),
    the signature it carried, and its size.

    A body up to :data:`_LAZY_LIMIT` bytes is kept as it was sent and decoded when first read (most
    are never shown: decoding every one cost a third of an inline delivery); a larger one is decoded
    at once, its long values clipped, so the cache never holds its bytes.
    """

    url: str
    content_type: str
    size: int
    body: bytes = dataclasses.field(repr=False, default=b"")
    sent_type: str = dataclasses.field(repr=False, default="")  # the Content-Type header, parameters too

    @functools.cached_property
    def _decoded(self) -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
        try:
            fields, signature = decode_body(self.body, self.sent_type or self.content_type)
        except (ValueError, LookupError):  # not what we encode; show it raw
            fields, signature = [("body", _clip(self.body.decode("utf-8", "replace")))], {}
        return tuple(fields), signature

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        return self._decoded[0]

    @property
    def signature(self) -> dict[str, str]:
        return self._decoded[1]

    @classmethod
    def of(cls, url: str, body: bytes, content_type: str) -> Posted:
        """The record of one POST (``content_type`` as sent, parameters included)."""
        posted = cls(url, content_type.split(";")[0], len(body), body, content_type)
        if len(body) > _LAZY_LIMIT:
            posted.fields  # decoded (and clipped) now; the bytes are dropped below
            object.__setattr__(posted, "body", b"")
        return posted


def _clip(value: str) -> str:
    return value if len(value) <= _VALUE_LIMIT else value[:_VALUE_LIMIT] + f"… ({len(value)} characters)"


def decode_body(body: bytes, content_type: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The fields of a webhook body (urlencoded, multipart or Mailgun's JSON) and its signature fields."""
    fields: list[tuple[str, str]] = []
    if content_type.startswith("application/json"):
        data = json.loads(body)
        signature = data.get("signature", {}) if isinstance(data, dict) else {}
        fields = [(str(k), json.dumps(v, indent=2, ensure_ascii=False)) for k, v in data.items()]
        return [(k, _clip(v)) for k, v in fields], {k: str(v) for k, v in signature.items()}
    if content_type.startswith("multipart/"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition") or ""
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            payload = payload if isinstance(payload, bytes) else b""
            value = (f"<file {filename!r}, {part.get_content_type()}, {len(payload)} bytes>" if filename
                     else payload.decode("utf-8", "replace"))
            fields.append((str(name), _clip(value)))
    else:
        fields = [(k, _clip(v)) for k, v in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)]
    signature = {k: v for k, v in fields if k in ("timestamp", "token", "signature")}
    return fields, signature


class PostLog:
    """A transport that remembers what it posted, and a listener that files it under its attempt.

    :param inner: the transport that really posts (real HTTP by default).
    :param keep: how many attempts (and deliveries) are remembered; the oldest go first.
    """

    def __init__(self, inner: Transport | None = None, keep: int = 5000) -> None:
        self.inner: Transport = inner or HttpTransport()
        self.keep = keep
        self._local = threading.local()
        self._lock = threading.Lock()
        self._posts: OrderedDict[tuple[str, int], Posted] = OrderedDict()
        self._hooks: OrderedDict[str, Webhook] = OrderedDict()

    def post(self, url: str, body: bytes, content_type: str, timeout: float) -> int:
        """POST through the inner transport, keeping the body for :meth:`record` on this thread."""
        self._local.last = (url, body, content_type)
        return self.inner.post(url, body, content_type, timeout)

    def record(self, hook: Webhook, attempt: DeliveryAttempt) -> None:
        """Worker listener: file the body this thread just posted under ``attempt``."""
        last = getattr(self._local, "last", None)
        self._local.last = None
        if last is None:
            return
        posted = Posted.of(*last)
        with self._lock:
            self._posts[(attempt.delivery_id, attempt.attempt)] = posted
            self._hooks[hook.id] = hook
            self._hooks.move_to_end(hook.id)
            while len(self._posts) > self.keep:
                self._posts.popitem(last=False)
            while len(self._hooks) > self.keep:
                self._hooks.popitem(last=False)

    def posted(self, delivery_id: str, attempt: int) -> Posted | None:
        """What attempt ``attempt`` of a delivery posted, if still remembered."""
        with self._lock:
            return self._posts.get((delivery_id, attempt))

    def webhook(self, delivery_id: str) -> Webhook | None:
        """The webhook of a delivery, if still remembered (to replay it)."""
        with self._lock:
            return self._hooks.get(delivery_id)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._posts.clear()
            self._hooks.clear()
