"""Everything due on the mock's clock, run in lanes so that one slow destination holds up nobody.

With ``inline``, there are no lanes and no threads: due jobs run in the thread that caused them
(an inject, a send, ``advance_clock``), so a test's receiver runs inside the test.

Otherwise a job is due at a time on the mock's clock and belongs to a *lane*: every webhook to one
destination (scheme, host and port) shares a lane, and the mock's own scheduled work (sent mail's
delivery steps) has one of its own. A lane runs at most ``width`` jobs at once on threads it starts
when work arrives and lets go when it has none, so a receiver that never answers ties up only its
own lane's threads: other destinations, the API and :meth:`Scheduler.run_due` carry on.

:meth:`Scheduler.run_due` plays what became due after the clock jumped, in order, including work
that this work schedules (a retry due inside the jump runs before it returns). It does not wait for
a job that *may hang* (a POST), was already running when it was called and has been running for
``grace`` seconds (a hung receiver), nor for the queue behind such jobs in a lane they fill.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from ..base.clock import Clock

__all__ = ["Job", "Scheduler"]

log = logging.getLogger("mailgun_mock.delivery")


@dataclasses.dataclass(eq=False)
class Job:
    """One thing to run when the clock reaches ``due``.

    :param on_drop: called (under the scheduler's lock: it must return at once) if the job is dropped
        by :meth:`Scheduler.clear` before it ran.
    """

    due: float
    lane: str
    run: Callable[[], None]
    name: str
    on_drop: Callable[[], None] | None = None
    may_hang: bool = False  # waits on something outside the mock (a receiver), not only on the mock
    started: float = 0.0  # time.monotonic() when a lane thread picked it up

    def __str__(self) -> str:
        return self.name


@dataclasses.dataclass(eq=False)
class _Lane:
    queue: collections.deque[Job] = dataclasses.field(default_factory=collections.deque)
    running: set[Job] = dataclasses.field(default_factory=set)
    threads: int = 0


class Scheduler:
    """Due jobs on the mock's clock, dispatched to per-destination lanes.

    :param clock: the mock's clock.
    :param width: how many jobs one lane runs at once.
    :param grace: seconds a job that may hang can have been running and still be waited for by
        :meth:`run_due` (a healthy receiver answers well within it).
    :param inline: run due jobs in the thread that added them or called :meth:`run_due`, in order,
        with no thread of the scheduler's own (``deliver="inline"``).
    """

    def __init__(self, clock: Clock, width: int = 4, grace: float = 2.0, inline: bool = False) -> None:
        self.clock = clock
        self.inline = inline
        self.width = width
        self.grace = grace
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Job]] = []
        self._lanes: dict[str, _Lane] = {}
        self._seq = itertools.count()
        self._dispatcher: threading.Thread | None = None
        self._stopping = False
        #: unexpected exceptions raised by jobs (bugs), for the test that caused them.
        self.errors: list[BaseException] = []

    # -- adding and dropping work ---------------------------------------------------------

    def at(self, due: float, lane: str, run: Callable[[], None], name: str,
           on_drop: Callable[[], None] | None = None, may_hang: bool = False) -> Job:
        """Run ``run()`` in ``lane`` once the clock reaches ``due``.

        :param may_hang: the job waits on something outside the mock (see :meth:`run_due`).
        """
        job = Job(due, lane, run, name, on_drop, may_hang)
        if self.inline:
            with self._cond:
                heapq.heappush(self._heap, (due, next(self._seq), job))
            self._run_inline()
            return job
        with self._cond:
            if self._dispatcher is None:  # started on first use, and again after stop()
                self._stopping = False
                self._dispatcher = threading.Thread(target=self._dispatch, name="mailgun-mock-scheduler", daemon=True)
                self._dispatcher.start()
            heapq.heappush(self._heap, (due, next(self._seq), job))
            self._cond.notify_all()
        return job

    def clear(self) -> None:
        """Drop every job not yet started, and wait (up to :attr:`grace` seconds) for the mock's own
        jobs running now: a delivery step in hand (an event, a suppression) would otherwise land after
        the reset that called this, in the next test's state. A job that may hang (a POST) is not
        waited for, so a hung receiver holds no reset up; it schedules nothing once dropped."""
        me = threading.current_thread()
        with self._cond:
            dropped = [job for _, _, job in self._heap]
            for lane in self._lanes.values():
                dropped.extend(lane.queue)
                lane.queue.clear()
            self._heap.clear()
            for job in dropped:
                if job.on_drop is not None:
                    job.on_drop()
            self._cond.notify_all()
            if not me.name.startswith("mailgun-mock-lane:"):  # a job clearing would wait for itself
                self._cond.wait_for(lambda: not any(not job.may_hang for lane in self._lanes.values()
                                                    for job in lane.running), timeout=self.grace)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop dispatching; lane threads finish the job in hand. Queued work stays queued."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            dispatcher.join(timeout)

    # -- waiting --------------------------------------------------------------------------

    def pending(self) -> int:
        """How many jobs wait or run (future retries included)."""
        with self._cond:
            return len(self._heap) + sum(len(lane.queue) + len(lane.running) for lane in self._lanes.values())

    def run_due(self, timeout: float = 60.0) -> bool:
        """Wait until everything due on the clock has run, apart from jobs that may hang, were running
        when this was called and have been running for :attr:`grace` seconds (and the queue behind
        them where they fill their lane).

        :returns: ``False`` if ``timeout`` real seconds passed first.
        """
        if self.inline:
            self._run_inline()
            return True
        began = time.monotonic()
        deadline = began + timeout
        with self._cond:
            self._cond.notify_all()
            while self._busy(began):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def _busy(self, began: float) -> bool:
        # Called with the lock held.
        if self._heap and self._heap[0][0] <= self.clock.now():
            return True
        # Stalled: it may hang, ran before run_due began, and has been running for ``grace`` seconds.
        stalled_before = min(began, time.monotonic() - self.grace)
        for lane in self._lanes.values():
            stalled = sum(1 for job in lane.running if job.may_hang and job.started < stalled_before)
            if stalled < len(lane.running):
                return True  # a job that is not stalled runs: its follow-ups may be due
            if lane.queue and stalled < self.width:
                return True  # a free thread will take the queue
        return False

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds, re-checking after every job; ``False`` on timeout.

        :param predicate: called with the scheduler's lock held; it must not add jobs.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    # -- the threads ----------------------------------------------------------------------

    def _run_inline(self) -> None:
        """Run every due job here, oldest first, including what they schedule as due."""
        while True:
            with self._cond:
                if not self._heap or self._heap[0][0] > self.clock.now():
                    return
                job = heapq.heappop(self._heap)[2]
            job.started = time.monotonic()
            try:
                job.run()
            except Exception as exc:  # a bug: log it and keep it for the test, as a lane does
                log.exception("%s failed unexpectedly", job)
                self.errors.append(exc)
            finally:
                with self._cond:
                    self._cond.notify_all()

    def _dispatch(self) -> None:
        with self._cond:
            while not self._stopping:
                now = self.clock.now()
                while self._heap and self._heap[0][0] <= now:
                    job = heapq.heappop(self._heap)[2]
                    self._lanes.setdefault(job.lane, _Lane()).queue.append(job)
                for key, lane in self._lanes.items():
                    while lane.threads < min(self.width, len(lane.queue) + len(lane.running)):
                        lane.threads += 1
                        threading.Thread(target=self._work, args=(key, lane), daemon=True,
                                         name=f"mailgun-mock-lane:{key}"[:60]).start()
                # The clock may jump ahead: run_due() and at() notify, so a bounded wait is enough.
                self._cond.wait(min(self._heap[0][0] - now, 1.0) if self._heap else None)

    def _work(self, key: str, lane: _Lane) -> None:
        while True:
            with self._cond:
                if self._stopping or not lane.queue:
                    lane.threads -= 1
                    if not lane.threads and not lane.queue and not lane.running:
                        self._lanes.pop(key, None)
                    return
                job = lane.queue.popleft()
                job.started = time.monotonic()
                lane.running.add(job)
            try:
                job.run()
            except Exception as exc:  # a bug must not kill the lane: log it, keep it, carry on
                log.exception("%s failed unexpectedly", job)
                self.errors.append(exc)
            finally:
                with self._cond:
                    lane.running.discard(job)
                    self._cond.notify_all()
