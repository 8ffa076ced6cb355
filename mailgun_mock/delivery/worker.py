"""The outbound webhook worker: signs every attempt afresh, POSTs off the request path, retries.

Due times are on the mock's clock. Advancing the clock and calling :meth:`DeliveryWorker.run_due`
runs every attempt that fell due, in order, including the retries of retries: a retry is due a
scheduled delay after the *scheduled* time of the attempt before it, so one jump of nine hours
runs the whole default schedule, as it would have unfolded in real time.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..base.clock import Clock
from ..base.logtext import printable
from ..base.records import DeliveryAttempt
from ..wire.form import FieldValue, FilePart, encode_form
from ..wire.signing import sign, signature_fields
from .scheduler import Scheduler
from .transport import HttpTransport, Transport

__all__ = ["DeliveryWorker", "Webhook"]

log = logging.getLogger("mailgun_mock.delivery")
_TASKS = "mailgun-mock:tasks"  # the lane of the mock's own scheduled work

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
    """Delivers :class:`Webhook` s when they fall due on the clock, each destination in its own lane
    of the :class:`~.scheduler.Scheduler` (so a dead receiver delays nobody else's webhooks).

    :param clock: the mock's clock.
    :param signing_key: the key every attempt is signed with (or what answers it: it can be rotated).
    :param schedule: seconds between attempts (after the first) — Mailgun's 10m, 10m, 15m, 30m, 1h, 2h, 4h.
    :param timeout: seconds one attempt may take.
    :param transport: how POSTs are sent (a seam).
    :param threads: how many attempts to one destination may be in flight at once.
    :param inline: attempt in the thread that caused the webhook (see :class:`~.scheduler.Scheduler`).
    """

    def __init__(self, clock: Clock, signing_key: str | Callable[[], str], schedule: Sequence[float], timeout: float,
                 transport: Transport | None = None, threads: int = 4, inline: bool = False) -> None:
        self.clock = clock
        self.signing_key = signing_key
        #: a subaccount's: its parent account's signing key, which signs each attempt a second time
        #: (Mailgun's ``parent-signature``, beside ``signature``); ``None`` for an account's own webhooks
        self.parent_signing_key: Callable[[], str] | None = None
        self.schedule = tuple(schedule)
        self.timeout = timeout
        self._listeners: list[Callable[[Webhook, DeliveryAttempt], None]] = []
        self.transport: Transport = transport or HttpTransport()
        self.scheduler = Scheduler(clock, width=threads, inline=inline)
        self._waiting: dict[str, Webhook] = {}  # submitted, first attempt not yet made
        self._retrying: dict[str, Webhook] = {}  # a retry queued
        self._turns: dict[str, object] = {}  # webhook id -> the token of its one live queued attempt
        self._lock = threading.Lock()
        #: unexpected exceptions raised while delivering (bugs), for the test that caused them.
        self.errors: list[BaseException] = self.scheduler.errors

    def subscribe(self, listener: Callable[[Webhook, DeliveryAttempt], None]) -> None:
        """Call ``listener(hook, attempt)`` (outside any lock) after each finished attempt."""
        self._listeners.append(listener)

    def submit(self, hook: Webhook) -> Webhook:
        """Queue a webhook for its first attempt, due now."""
        with self._lock:
            self._waiting[hook.id] = hook
        self._queue(hook, self.clock.now())
        return hook

    def _queue(self, hook: Webhook, due: float) -> None:
        hook.due = due
        turn = object()  # this queuing's token: a later one (retry_now) supersedes it
        with self._lock:
            self._turns[hook.id] = turn
        self.scheduler.at(due, _lane(hook.url), lambda: self._run(hook, turn),
                          f"webhook {hook.kind} to {printable(hook.url)}", on_drop=lambda: self._dropped(hook),
                          may_hang=True)

    def call_at(self, when: float, action: Callable[[], None], name: str = "task") -> None:
        """Run ``action`` once the mock's clock reaches ``when``, in the mock's own lane (one at a time, in order).

        Scheduled sends, delivery steps and retries of sent mail use this, so that advancing the
        clock (and :meth:`run_due`) plays them, in order, like webhook retries.
        """
        self.scheduler.at(when, _TASKS, action, f"scheduled {name}")

    def wait_first_attempts(self, ids: set[str], timeout: float) -> bool:
        """Block until each of these webhooks has had its first attempt; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            hooks = [self._waiting[i] for i in ids if i in self._waiting]
        return all(h.first_attempt.wait(max(0.0, deadline - time.monotonic())) for h in hooks)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds, re-checking after every attempt; ``False`` on timeout."""
        return self.scheduler.wait_until(predicate, timeout)

    def pending(self) -> int:
        """How many webhooks and tasks wait for their turn (including future retries) or run."""
        return self.scheduler.pending()

    def run_due(self, timeout: float = 60.0) -> bool:
        """Wait until what is due on the clock has run (see :meth:`Scheduler.run_due`).

        :returns: ``False`` if ``timeout`` real seconds passed first.
        """
        return self.scheduler.run_due(timeout)

    def retry_now(self, delivery_id: str) -> bool:
        """Attempt a webhook's waiting retry now rather than when the clock reaches it (the web inbox's
        "retry now"); ``False`` if none waits. The retry queued before is then skipped when it falls due."""
        with self._lock:
            hook = self._retrying.get(delivery_id)
        if hook is None or hook.finished:
            return False
        self._queue(hook, self.clock.now())
        return True

    def clear(self) -> None:
        """Drop every queued webhook and task (attempts in flight finish, but record nothing and
        schedule no retry)."""
        with self._lock:
            for hook in [*self._waiting.values(), *self._retrying.values()]:
                hook.finished = True
            self._waiting.clear()
            self._retrying.clear()
            self._turns.clear()
        self.scheduler.clear()

    def stop(self) -> None:
        """Stop the threads once their attempt in flight ends; queued webhooks stay queued."""
        self.scheduler.stop()

    # -- on a lane's thread ---------------------------------------------------------------

    def _dropped(self, hook: Webhook) -> None:
        hook.finished = True
        hook.first_attempt.set()

    def _run(self, hook: Webhook, turn: object) -> None:
        with self._lock:
            if self._turns.get(hook.id) is not turn:
                return  # superseded: retry_now ran this retry already
            del self._turns[hook.id]
            self._retrying.pop(hook.id, None)
        try:
            self._attempt(hook)
        finally:
            hook.first_attempt.set()
            with self._lock:
                self._waiting.pop(hook.id, None)

    def _attempt(self, hook: Webhook) -> None:
        hook.attempts += 1
        scheduled = hook.due
        now = self.clock.now()
        key = self.signing_key() if callable(self.signing_key) else self.signing_key  # rotatable
        # Signed with the wall clock: receivers check freshness against their own (the event keeps the mock's time).
        signature = signature_fields(key, time.time())
        if self.parent_signing_key is not None:
            signature["parent-signature"] = sign(self.parent_signing_key(), signature["timestamp"], signature["token"])
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
        if hook.finished:  # cleared (a reset) while the POST was in flight: it belongs to the state before
            return
        for listener in self._listeners:
            listener(hook, attempt)
        if next_retry is not None and not hook.finished:
            with self._lock:
                self._retrying[hook.id] = hook
            self._queue(hook, next_retry)
        else:
            hook.finished = True


def _lane(url: str) -> str:
    """Webhooks to one destination (scheme, host and port) share a lane."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()
