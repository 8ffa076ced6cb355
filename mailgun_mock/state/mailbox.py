"""What the web inbox adds to the state: every received message with its route trace, read marks,
and the ``o:`` options each send was made with.

It lives beside the :class:`~.store.Store` and runs under the store's lock (one lock for all state),
and a store ``clear()`` empties it. Snapshots do not hold it yet: after a restart from a snapshot the
inbox lists sent mail (the outbox is saved) but not the mail received before.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["Mailbox", "ReceivedMessage"]


@dataclasses.dataclass(frozen=True)
class ReceivedMessage:
    """One inbound message as it went through the routes.

    :param id: the inbox's id for it (URL-safe, unguessable).
    :param trace: per envelope recipient, the inject answer's part: routes evaluated (matched or not,
        captures, why), ``stopped_by`` and the actions taken.
    """

    id: str
    raw: bytes
    recipients: tuple[str, ...]
    sender: str
    message_id: str
    received_at: float
    trace: tuple[dict[str, Any], ...]


class Mailbox:
    """Received mail (oldest first), read marks and send options.

    :param lock: the store's lock, taken by every method.
    :param changed: the store's change notification, called with the lock held.
    :param cap: received messages kept at most (the oldest go first); ``None``: no cap.
    """

    def __init__(self, lock: threading.RLock, changed: Callable[[], None], cap: int | None = None) -> None:
        self._lock = lock
        self._changed = changed
        self.cap = cap
        self._received: dict[str, ReceivedMessage] = {}
        self._read: set[str] = set()
        self._options: dict[str, tuple[tuple[str, str], ...]] = {}

    def add(self, message: ReceivedMessage) -> None:
        """Keep a received message (evicting the oldest past the cap)."""
        with self._lock:
            self._received[message.id] = message
            if self.cap is not None and len(self._received) > self.cap:
                oldest = next(iter(self._received))
                del self._received[oldest]
                self._read.discard(oldest)
            self._changed()

    def received(self) -> list[ReceivedMessage]:
        """Every received message kept, oldest first."""
        with self._lock:
            return list(self._received.values())

    def get(self, message_id: str) -> ReceivedMessage | None:
        """The received message with this inbox id, or ``None``."""
        with self._lock:
            return self._received.get(message_id)

    def delete(self, ids: Iterable[str]) -> int:
        """Forget these received messages (ids of others are ignored); answers how many went."""
        with self._lock:
            gone = [i for i in set(ids) if self._received.pop(i, None) is not None]
            if gone:
                self._changed()
            return len(gone)

    def mark_read(self, ids: Sequence[str], read: bool = True) -> None:
        """Mark inbox entries (received or sent) read or unread."""
        with self._lock:
            if read:
                self._read.update(ids)
            else:
                self._read.difference_update(ids)
            self._changed()

    def read_marks(self) -> frozenset[str]:
        """The ids marked read."""
        with self._lock:
            return frozenset(self._read)

    def note_options(self, message_id: str, options: Sequence[tuple[str, str]]) -> None:
        """Remember the ``o:`` options a send was made with (by its Message-Id)."""
        with self._lock:
            self._options[message_id] = tuple(options)
            if self.cap is not None and len(self._options) > self.cap:
                del self._options[next(iter(self._options))]

    def options(self, message_id: str) -> tuple[tuple[str, str], ...] | None:
        """The options of a send, or ``None`` when none were noted (e.g. before a restart)."""
        with self._lock:
            return self._options.get(message_id)

    def clear(self) -> None:
        """Forget everything (the store calls it, under its lock)."""
        with self._lock:
            self._received.clear()
            self._read.clear()
            self._options.clear()
