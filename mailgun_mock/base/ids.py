"""Identifiers in Mailgun's formats: ObjectId-style route ids, tokens, event ids (pure)."""

from __future__ import annotations

import base64
import itertools
import os
import secrets
import threading

__all__ = ["ObjectIds", "new_event_id", "new_hex_id", "new_storage_key"]


class ObjectIds:
    """Makes MongoDB-style ObjectIds, as Mailgun uses for routes: 24 hex digits.

    The first 4 bytes are the creation second (Mailgun's real ids decode to their
    ``created_at``), then 5 bytes fixed per generator, then a 3-byte counter, so ids made
    in one process sort in creation order within a second.

    :param machine: the 5 middle bytes (random by default; a seam for deterministic tests).
    :param counter_start: where the 3-byte counter starts (random by default).
    """

    def __init__(self, machine: bytes | None = None, counter_start: int | None = None) -> None:
        self._machine = machine if machine is not None else os.urandom(5)
        if len(self._machine) != 5:
            raise ValueError("machine must be 5 bytes")
        start = counter_start if counter_start is not None else int.from_bytes(os.urandom(3), "big")
        self._counter = itertools.count(start)
        self._lock = threading.Lock()

    def new(self, now: float) -> str:
        """A fresh id whose leading 4 bytes encode ``now`` (seconds since the epoch)."""
        with self._lock:
            count = next(self._counter) & 0xFFFFFF
        seconds = int(now) & 0xFFFFFFFF
        return (seconds.to_bytes(4, "big") + self._machine + count.to_bytes(3, "big")).hex()


def new_event_id() -> str:
    """A fresh event id as Mailgun makes them: 16 random bytes in URL-safe base64, 22 characters."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")


def new_storage_key() -> str:
    """A stored message's key: 192 random bits, URL-safe base64 (never a ``/``), 32 characters."""
    return secrets.token_urlsafe(24)


def new_hex_id(size: int = 8) -> str:
    """A random id of ``size`` bytes in lowercase hex: webhook attempts, rules, local Message-Ids."""
    return secrets.token_hex(size)
