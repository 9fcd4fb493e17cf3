"""
Calls made later, on one timer thread: retries waiting for their backoff
wait here, not in a worker thread.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ...core import process

logger = logging.getLogger("eventx_signals")


class DelayedCalls:
    """A heap of (due time, call) served by a daemon thread started on first use."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._heap: list[tuple[float, int, object, Callable[[Any], None], Any]] = []
        self._order = itertools.count()
        self._condition = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None

    def call_later(
        self, delay: float, owner: object, call: Callable[[Any], None], arg: Any
    ) -> None:
        """Call ``call(arg)`` in ``delay`` seconds, or sooner if ``owner``
        is flushed."""
        with self._condition:
            heapq.heappush(
                self._heap, (time.monotonic() + delay, next(self._order), owner, call, arg)
            )
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="eventx-delayed", daemon=True
                )
                with process.process_signals_blocked():
                    self._thread.start()
            self._condition.notify()

    def flush(self, owner: object) -> int:
        """Make every call of ``owner`` now, in this thread (a closing
        backend runs its waiting retries instead of losing them)."""
        with self._condition:
            mine = [entry for entry in self._heap if entry[2] is owner]
            if not mine:
                return 0
            self._heap = [entry for entry in self._heap if entry[2] is not owner]
            heapq.heapify(self._heap)
        for _, _, _, call, arg in sorted(mine):
            self._call(call, arg)
        return len(mine)

    def _serve(self) -> None:
        while True:
            with self._condition:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._condition.wait(timeout)
                _, _, _, call, arg = heapq.heappop(self._heap)
            self._call(call, arg)
            del call, arg

    @staticmethod
    def _call(call: Callable[[Any], None], arg: Any) -> None:
        try:
            call(arg)
        except Exception:
            logger.exception("A delayed retry could not be handed on.")


delayed_calls = DelayedCalls()

# A forked child has no timer thread, and its calls are the parent's.
process.reset_after_fork(delayed_calls._reset)
