"""The mock's clock: real time plus an offset that tests move forward."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Clock", "LATEST"]

#: 9999-12-31 23:59:59 UTC: dates are shown in RFC 1123/2822 forms, which end with year 9999.
LATEST = 253402300799.0


class Clock:
    """Wall-clock seconds since the epoch, shifted by everything :meth:`advance` was given.

    Expiry and webhook retries read this clock, so a test can jump three days ahead in a call.

    :param source: where real time comes from (a seam for fully frozen tests).
    """

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current time on the mock's clock, in float seconds since the epoch."""
        return self._source() + self._offset

    @property
    def offset(self) -> float:
        """How far the clock has been moved ahead of real time, in seconds."""
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward and answer the new time.

        :param seconds: a non-negative number of seconds.
        :raises ValueError: for a negative or non-finite amount (the clock never runs backwards).
        """
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError(f"the clock only moves forward by a finite amount, got {seconds!r}")
        with self._lock:
            if self._source() + self._offset + seconds > LATEST:
                raise ValueError("the clock cannot go past 9999-12-31, the last date Mailgun's formats can show")
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        """Go back to real time."""
        with self._lock:
            self._offset = 0.0
