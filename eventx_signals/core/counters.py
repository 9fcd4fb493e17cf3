"""Process-wide counters of receiver runs (``stats()``), and waiting for them
to finish."""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

from . import metrics
from .percentiles import nearest_rank

#: The queue lags ``stats()`` summarises: those of the last runs started.
LAGS_KEPT = 1000


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
        #: Seconds from the send to the start of the last runs (first
        #: attempts), oldest first; appending is atomic.
        self.lags: collections.deque[float] = collections.deque(maxlen=LAGS_KEPT)
        self.record_lag = self.lags.append

    def finished(self, runs: int, succeeded: int, failed: int) -> None:
        with self._lock:
            self.succeeded += succeeded
            self.failed += failed
            self.completed += runs
            if self._waiters:
                self._finished_condition.notify_all()

    def record_dropped(self, alias: str, receivers: Sequence[Any]) -> None:
        """Runs discarded: a full queue, a hand-off that failed."""
        with self._lock:
            self.dropped += len(receivers)
        metrics.count_runs("dropped", alias, receivers)

    def record_run_log_dropped(self, rows: int) -> None:
        """Rows of the run log that will never be written."""
        with self._lock:
            self.run_log_dropped += rows

    def record_retry(self) -> None:
        """A failed attempt gets another one: the run goes on."""
        with self._lock:
            self.retried += 1

    def record_inline(self, alias: str, receivers: Sequence[Any]) -> None:
        """Runs made in the sending thread, before send() returned."""
        with self._lock:
            self.inline += len(receivers)
        metrics.count_runs("inline", alias, receivers)

    def record_queue_full(self, runs: int) -> None:
        """Runs that found their queue full (whatever ``when_full`` did)."""
        with self._lock:
            self.queue_full += runs

    def record_fallback(self, alias: str, receivers: Sequence[Any]) -> None:
        """Runs an out-of-process backend made on a thread of this process."""
        with self._lock:
            self.fallback += len(receivers)
        metrics.count_runs("fallback", alias, receivers)

    @property
    def pending(self) -> int:
        return self.dispatched.value - self.started.value

    @property
    def running(self) -> int:
        started = self.started.value
        with self._lock:
            return started - self.completed

    def as_dict(self) -> dict[str, Any]:
        dispatched = self.dispatched.value
        started = self.started.value
        lags = sorted(self.lags)
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
                "lag_p50_ms": _percentile_ms(lags, 0.50),
                "lag_p95_ms": _percentile_ms(lags, 0.95),
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


def _percentile_ms(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of sorted seconds, in milliseconds (None
    for no values)."""
    if not ordered:
        return None
    return round(max(nearest_rank(ordered, fraction), 0.0) * 1000, 3)


counters = Counters()


def stats() -> dict[str, Any]:
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
    ``running`` (retries waiting for their backoff included),
    ``run_log_dropped`` (rows of the run log that will never be written),
    and ``lag_p50_ms`` and ``lag_p95_ms``: the queue lag (from the send to
    the start of a run's first attempt) of the last 1,000 runs started in
    this process, in milliseconds (None before the first).
    """
    return counters.as_dict()
