"""The outbound webhook worker: signs every attempt afresh, POSTs off the request path, retries.

Due times are on the mock's clock. Advancing the clock and calling :meth:`DeliveryWorker.run_due`
runs every attempt that fell due, in order, including the retries of retries: a retry is due a
scheduled delay after the *scheduled* time of the attempt before it, so one jump of nine hours
runs the whole default schedule, as it would have unfolded in real time.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..base.clock import Clock
from ..base.logtext import printable
from ..base.records import DeliveryAttempt
from ..wire.form import FieldValue, FilePart, encode_form
from ..wire.signing import signature_fields
from .transport import HttpTransport, Transport

__all__ = ["DeliveryWorker", "Webhook"]

log = logging.getLogger("mailgun_mock.delivery")

@dataclasses.dataclass(eq=False)
class Webhook:
    """A webhook to deliver: where, what, and its progress.

    :param fields: the form fields, without the signature (added fresh on every attempt).
    :param files: file parts (forward with attachments).
    :param multipart: send multipart even without files.
    :param event: for an event webhook: the event, POSTed as JSON ``{"signature", "event-data"}``
        instead of form fields.
    """

    id: str
    kind: str
    url: str
    recipient: str
    message_id: str
    fields: list[tuple[str, FieldValue]]
    files: list[FilePart] = dataclasses.field(default_factory=list)
    multipart: bool = False
    event: dict[str, Any] | None = None
    #: seconds between attempts for this webhook; ``None``: the worker's (route webhooks') schedule
    schedule: tuple[float, ...] | None = None
    attempts: int = 0
    due: float = 0.0
    finished: bool = False
    first_attempt: threading.Event = dataclasses.field(default_factory=threading.Event)
    #: what the owner needs to describe the outcome (e.g. to build an event); not sent.
    context: dict[str, Any] = dataclasses.field(default_factory=dict)


class DeliveryWorker:
    """A small pool of threads delivering :class:`Webhook` s when they fall due on the clock.

    :param clock: the mock's clock.
    :param signing_key: the key every attempt is signed with (or what answers it: it can be rotated).
    :param schedule: seconds between attempts (after the first) — Mailgun's 10m, 10m, 15m, 30m, 1h, 2h, 4h.
    :param timeout: seconds one attempt may take.
    :param transport: how POSTs are sent (a seam).
    :param threads: how many attempts may be in flight at once.
    """

    def __init__(self, clock: Clock, signing_key: str | Callable[[], str], schedule: Sequence[float], timeout: float,
                 transport: Transport | None = None, threads: int = 4) -> None:
        self.clock = clock
        self.signing_key = signing_key
        self.schedule = tuple(schedule)
        self.timeout = timeout
        self._listeners: list[Callable[[Webhook, DeliveryAttempt], None]] = []
        self.transport: Transport = transport or HttpTransport()
        self._heap: list[tuple[float, int, Webhook | _Task]] = []
        self._waiting: dict[str, Webhook] = {}  # submitted, first attempt not yet made
        self._seq = itertools.count()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread_count = threads
        self._threads: list[threading.Thread] = []
        #: unexpected exceptions raised while delivering (bugs), for the test that caused them.
        self.errors: list[BaseException] = []

    def _ensure_threads(self) -> None:
        # Started on first use and again after stop(), so an idle mock costs no threads.
        if not self._threads:
            self._stopping = False
            self._threads = [threading.Thread(target=self._loop, name=f"mailgun-mock-delivery-{i}", daemon=True)
                             for i in range(self._thread_count)]
            for thread in self._threads:
                thread.start()

    def subscribe(self, listener: Callable[[Webhook, DeliveryAttempt], None]) -> None:
        """Call ``listener(hook, attempt)`` (outside any lock) after each finished attempt."""
        self._listeners.append(listener)

    def submit(self, hook: Webhook) -> Webhook:
        """Queue a webhook for its first attempt, due now."""
        hook.due = self.clock.now()
        with self._cond:
            self._ensure_threads()
            self._waiting[hook.id] = hook
            heapq.heappush(self._heap, (hook.due, next(self._seq), hook))
            self._cond.notify()
        return hook

    def call_at(self, when: float, action: Callable[[], None], name: str = "task") -> None:
        """Run ``action`` on a worker thread once the mock's clock reaches ``when``.

        Scheduled sends, delivery steps and retries of sent mail use this, so that advancing the
        clock (and :meth:`run_due`) plays them, in order, like webhook retries.
        """
        with self._cond:
            self._ensure_threads()
            heapq.heappush(self._heap, (when, next(self._seq), _Task(name, action)))
            self._cond.notify()

    def wait_first_attempts(self, ids: set[str], timeout: float) -> bool:
        """Block until each of these webhooks has had its first attempt; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            hooks = [self._waiting[i] for i in ids if i in self._waiting]
        return all(h.first_attempt.wait(max(0.0, deadline - time.monotonic())) for h in hooks)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds, re-checking after every attempt; ``False`` on timeout.

        :param predicate: called with the worker's condition held; it must not submit webhooks.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def pending(self) -> int:
        """How many webhooks wait for an attempt (including future retries)."""
        with self._cond:
            return len(self._heap) + self._in_flight

    def run_due(self, timeout: float = 60.0) -> bool:
        """Wake the workers and wait until nothing due on the clock is left to attempt.

        :returns: ``False`` if ``timeout`` real seconds passed first.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._in_flight or (self._heap and self._heap[0][0] <= self.clock.now()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def clear(self) -> None:
        """Drop every queued webhook (attempts in flight finish, but schedule no retry)."""
        with self._cond:
            for _, _, item in self._heap:
                if isinstance(item, Webhook):
                    item.finished = True
                    item.first_attempt.set()
            self._heap.clear()
            self._waiting.clear()

    def stop(self) -> None:
        """Stop the threads once their attempt in flight ends; queued webhooks stay queued."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout=self.timeout + 1)

    # -- the worker threads ---------------------------------------------------------------

    def _next_due(self) -> Webhook | _Task | None:
        with self._cond:
            while not self._stopping:
                if self._heap:
                    wait = self._heap[0][0] - self.clock.now()
                    if wait <= 0:
                        item = heapq.heappop(self._heap)[2]
                        self._in_flight += 1
                        return item
                    # The clock may also jump ahead: run_due() notifies, so a bounded wait is enough.
                    self._cond.wait(min(wait, 1.0))
                else:
                    self._cond.wait()
            return None

    def _loop(self) -> None:
        while (item := self._next_due()) is not None:
            try:
                if isinstance(item, _Task):
                    item.action()
                else:
                    self._attempt(item)
            except Exception as exc:  # a bug must not kill the worker: log it, keep it, carry on
                log.exception("%s failed unexpectedly", item)
                self.errors.append(exc)
            finally:
                with self._cond:
                    if isinstance(item, Webhook):
                        item.first_attempt.set()
                        self._waiting.pop(item.id, None)
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _attempt(self, hook: Webhook) -> None:
        hook.attempts += 1
        scheduled = hook.due
        now = self.clock.now()
        key = self.signing_key() if callable(self.signing_key) else self.signing_key  # rotatable
        signature = signature_fields(key, now)
        if hook.event is not None:
            fields: list[tuple[str, FieldValue]] = [("signature", ""), ("event-data", "")]
            body = json.dumps({"signature": signature, "event-data": hook.event}).encode()
            content_type = "application/json"
        else:
            fields = [*hook.fields, *signature.items()]
            body, content_type = encode_form(fields, hook.files, multipart=hook.multipart)
        status: int | None = None
        error: str | None = None
        started = time.monotonic()
        try:
            status = self.transport.post(hook.url, body, content_type, self.timeout)
        except (OSError, TimeoutError) as exc:
            error = str(exc) or type(exc).__name__
        duration = time.monotonic() - started
        schedule = self.schedule if hook.schedule is None else hook.schedule
        retries_left = hook.attempts <= len(schedule)
        if status is not None and 200 <= status < 300:
            outcome = "delivered"
        elif status == 406:
            outcome = "rejected"  # Mailgun: 406 means "do not retry"
        elif retries_left:
            outcome = "retrying"
        else:
            outcome = "failed"
        next_retry = scheduled + schedule[hook.attempts - 1] if outcome == "retrying" else None
        attempt = DeliveryAttempt(
            delivery_id=hook.id, kind=hook.kind, url=hook.url, recipient=hook.recipient,
            message_id=hook.message_id, attempt=hook.attempts, status=status, error=error, outcome=outcome,
            duration=duration, scheduled_at=scheduled, attempted_at=now, next_retry=next_retry,
            fields=tuple(name for name, _ in fields) + tuple(f[0] for f in hook.files),
        )
        log.info("webhook %s attempt %d -> %s: %s", hook.kind, hook.attempts, printable(hook.url),
                 status if status is not None else printable(error or ""))
        for listener in self._listeners:
            listener(hook, attempt)
        with self._cond:
            if next_retry is not None and not hook.finished:
                hook.due = next_retry
                heapq.heappush(self._heap, (next_retry, next(self._seq), hook))
            else:
                hook.finished = True


@dataclasses.dataclass(eq=False)
class _Task:
    """Something to run when the clock reaches its due time (not a POST)."""

    name: str
    action: Callable[[], None]

    def __str__(self) -> str:
        return f"scheduled {self.name}"
