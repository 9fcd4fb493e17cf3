"""Process-wide counters of receiver runs (``stats()``), and waiting for them
to finish."""

from __future__ import annotations

import itertools
import threading
import time


class AtomicCounter:
    """
    A counter that senders advance without a lock.

    ``next()`` on an ``itertools.count`` is one C call, atomic under the GIL,
    so the request path takes no lock. Reading it has no public accessor, so
    a read advances it too and remembers how many reads there were: the
    value is what ``next()`` returns minus the reads before it.
    """

    __slots__ = ("_count", "_reads", "_read_lock", "advance")

    def __init__(self) -> None:
        self._count = itertools.count()
        self._reads = 0
        self._read_lock = threading.Lock()
        #: Add one; the send path calls this directly.
        self.advance = self._count.__next__

    def add(self, amount: int) -> None:
        for _ in range(amount):
            self.advance()

    @property
    def value(self) -> int:
        with self._read_lock:
            value = next(self._count) - self._reads
            self._reads += 1
        return value


class Counters:
    """
    Counts receiver runs (one run = one receiver called for one dispatch).

    Runs dispatched and runs started are counted without a lock (see
    ``AtomicCounter``); finished runs are counted under a lock, which also
    wakes ``wait_until_done()``.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start from zero (also in a forked child, whose parent's lock may
        be held for good)."""
        self.dispatched = AtomicCounter()
        self.started = AtomicCounter()
        self._lock = threading.Lock()
        self._finished_condition = threading.Condition(self._lock)
        self._waiters = 0
        self.succeeded = 0
        self.failed = 0
        self.dropped = 0
        self.inline = 0
        self.queue_full = 0
        self.fallback = 0
        self.retried = 0
        self.completed = 0
        self.run_log_dropped = 0

    def finished(self, runs: int, succeeded: int, failed: int) -> None:
        with self._lock:
            self.succeeded += succeeded
            self.failed += failed
            self.completed += runs
            if self._waiters:
                self._finished_condition.notify_all()

    def record_dropped(self, runs: int) -> None:
        with self._lock:
            self.dropped += runs

    def record_run_log_dropped(self, rows: int) -> None:
        """Rows of the run log that will never be written."""
        with self._lock:
            self.run_log_dropped += rows

    def record_retry(self) -> None:
        """A failed attempt gets another one: the run goes on."""
        with self._lock:
            self.retried += 1

    def record_inline(self, runs: int) -> None:
        """Runs made in the sending thread, before send() returned."""
        with self._lock:
            self.inline += runs

    def record_queue_full(self, runs: int) -> None:
        """Runs that found their queue full (whatever ``when_full`` did)."""
        with self._lock:
            self.queue_full += runs

    def record_fallback(self, runs: int) -> None:
        with self._lock:
            self.fallback += runs

    @property
    def pending(self) -> int:
        return self.dispatched.value - self.started.value

    @property
    def running(self) -> int:
        started = self.started.value
        with self._lock:
            return started - self.completed

    def as_dict(self) -> dict[str, int]:
        dispatched = self.dispatched.value
        started = self.started.value
        with self._lock:
            return {
                "dispatched": dispatched,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "retried": self.retried,
                "dropped": self.dropped,
                "inline": self.inline,
                "queue_full": self.queue_full,
                "fallback": self.fallback,
                "pending": dispatched - started,
                "running": started - self.completed,
                "run_log_dropped": self.run_log_dropped,
            }

    def wait_until_done(self, timeout: float | None) -> None:
        """
        Block until every run dispatched before this call has completed.

        Raise TimeoutError naming how many runs are still pending or running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        target = self.dispatched.value
        with self._finished_condition:
            self._waiters += 1
            try:
                while self.completed < target:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        started = self.started.value
                        raise TimeoutError(
                            f"{self.dispatched.value - started} receiver runs are still "
                            f"queued and {started - self.completed} still running after "
                            f"waiting {timeout} seconds."
                        )
                    self._finished_condition.wait(remaining)
            finally:
                self._waiters -= 1


counters = Counters()


def stats() -> dict[str, int]:
    """
    Return the process-wide counters of receiver runs (a run: one receiver
    called for one dispatch).

    Keys: ``dispatched`` (runs handed to a backend), ``succeeded`` and
    ``failed`` (runs, by their last attempt), ``retried`` (attempts made
    again after a failure), ``dropped`` (runs discarded: a full queue with
    ``when_full="drop"``, a hand-off with ``when_handoff_fails="drop"``),
    ``inline`` (runs made in the sending thread, before ``send()``
    returned: ``keep_inline`` receivers, eager runs, the immediate backend,
    and the runs a full or shut-down queue made run there), ``queue_full``
    (runs that found their queue full, whatever ``when_full`` then did),
    ``fallback`` (runs made on a thread of this process because an
    out-of-process backend could not take them), ``pending`` (queued),
    ``running`` (retries waiting for their backoff included) and
    ``run_log_dropped`` (rows of the run log that will never be written).
    """
    return counters.as_dict()
