"""Process-wide counters of receiver runs, and waiting for them to finish."""

from __future__ import annotations

import os
import threading
import time


class Counters:
    """
    Counts receiver runs (one run = one receiver called for one dispatch).

    Updated under one lock: once when runs are accepted by a backend, once
    when a worker starts a dispatch and once when it finishes it.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._waiters = 0
        self.dispatched = 0
        self.succeeded = 0
        self.failed = 0
        self.retried = 0
        self.dropped = 0
        self.pending = 0
        self.running = 0
        # Runs that left the pending/running state, however they ended.
        self.completed = 0

    def accepted(self, runs: int) -> None:
        with self._lock:
            self.dispatched += runs
            self.pending += runs

    def started(self, runs: int) -> None:
        with self._lock:
            self.pending -= runs
            self.running += runs

    def finished(self, runs: int, succeeded: int, failed: int) -> None:
        with self._lock:
            self.running -= runs
            self.succeeded += succeeded
            self.failed += failed
            self.completed += runs
            if self._waiters:
                self._idle.notify_all()

    def discarded(self, runs: int) -> None:
        """Runs accepted but thrown away unstarted (for example at fork)."""
        with self._lock:
            self.pending -= runs
            self.completed += runs
            if self._waiters:
                self._idle.notify_all()

    def record_dropped(self, runs: int) -> None:
        with self._lock:
            self.dropped += runs

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {
                "dispatched": self.dispatched,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "retried": self.retried,
                "dropped": self.dropped,
                "pending": self.pending,
                "running": self.running,
            }

    def wait_until_done(self, timeout: float | None) -> None:
        """
        Block until every run accepted before this call has completed.

        Raise TimeoutError naming how many runs are still pending or running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            target = self.dispatched
            self._waiters += 1
            try:
                while self.completed < target:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(
                            f"{self.pending} receiver runs are still queued and "
                            f"{self.running} still running after waiting "
                            f"{timeout} seconds."
                        )
                    self._idle.wait(remaining)
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
