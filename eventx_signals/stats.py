"""Process-wide counters of receiver runs, and waiting for them to finish."""

from __future__ import annotations

import itertools
import os
import threading
import time


def _value(counter: itertools.count[int]) -> int:
    # itertools.count has no read accessor; its repr is "count(N)".
    return int(repr(counter)[6:-1])


def _advance(counter: itertools.count[int], runs: int) -> None:
    next(counter)  # a dispatch has at least one run; most have exactly one
    for _ in range(runs - 1):
        next(counter)


class Counters:
    """
    Counts receiver runs (one run = one receiver called for one dispatch).

    Runs accepted and runs started are counted with ``itertools.count``,
    whose ``next()`` is atomic under the GIL, so the sender's path takes no
    lock. Finished runs are counted under a lock, which also wakes
    ``wait_until_done()``.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        #: Advanced once per run accepted; the send path calls next() on it
        #: directly for the common one-run dispatch.
        self.accepted_runs = itertools.count()
        self._started = itertools.count()
        self._lock = threading.Lock()
        self._finished_condition = threading.Condition(self._lock)
        self._waiters = 0
        self.succeeded = 0
        self.failed = 0
        self.retried = 0
        self.dropped = 0
        self.completed = 0

    def accepted(self, runs: int) -> None:
        _advance(self.accepted_runs, runs)

    def started(self, runs: int) -> None:
        _advance(self._started, runs)

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

    @property
    def dispatched(self) -> int:
        return _value(self.accepted_runs)

    @property
    def pending(self) -> int:
        return _value(self.accepted_runs) - _value(self._started)

    @property
    def running(self) -> int:
        with self._lock:
            completed = self.completed
        return _value(self._started) - completed

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            started = _value(self._started)
            running = started - self.completed
            values = {
                "succeeded": self.succeeded,
                "failed": self.failed,
                "retried": self.retried,
                "dropped": self.dropped,
            }
        dispatched = _value(self.accepted_runs)
        return {
            "dispatched": dispatched,
            **values,
            "pending": dispatched - started,
            "running": running,
        }

    def wait_until_done(self, timeout: float | None) -> None:
        """
        Block until every run accepted before this call has completed.

        Raise TimeoutError naming how many runs are still pending or running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        target = _value(self.accepted_runs)
        with self._finished_condition:
            self._waiters += 1
            try:
                while self.completed < target:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        started = _value(self._started)
                        raise TimeoutError(
                            f"{_value(self.accepted_runs) - started} receiver runs are still "
                            f"queued and {started - self.completed} still running after "
                            f"waiting {timeout} seconds."
                        )
                    self._finished_condition.wait(remaining)
            finally:
                self._waiters -= 1


counters = Counters()


def stats() -> dict[str, int]:
    """
    Return the process-wide counters of receiver runs.

    Keys: dispatched, succeeded, failed, retried, dropped, pending, running.
    """
    return counters.as_dict()


if hasattr(os, "register_at_fork"):
    # A forked child starts with no queued or running work of its own.
    os.register_at_fork(after_in_child=counters.reset)
