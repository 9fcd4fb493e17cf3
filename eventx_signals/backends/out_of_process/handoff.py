"""
Hand-offs to a broker with a deadline.

Publishing a message blocks on the broker's socket. A broker that accepts
connections but never answers (overloaded, half-dead, a firewall dropping
packets) would block the sender for as long as the transport lets it, which
for some transports is for ever. So each hand-off runs on a thread of its
own ("lane"), and the sender waits for it at most ``timeout`` seconds.

A lane whose hand-off has taken longer than the timeout counts as stuck:
later hand-offs go to another lane (at most ``max_lanes``), and once every
lane is stuck they fail at once rather than each waiting out the timeout
again. A stuck lane serves again when its hand-off returns. A hand-off whose
caller gave up may still reach the broker later; the caller has applied the
backend's ``when_handoff_fails`` policy by then, so receivers must be
idempotent (delivery is at least once).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from ...core import process

#: Seconds an extra lane waits for work before it leaves.
LANE_MAX_IDLE = 60.0


class HandoffTimeout(TimeoutError):
    """The broker did not take a receiver run within the hand-off timeout."""


class _Job:
    """One hand-off: the call to make, and its outcome."""

    __slots__ = ("call", "done", "result", "error", "abandoned", "on_done", "_lock")

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.abandoned = False
        self.on_done: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def run(self) -> None:
        with self._lock:
            if self.abandoned:
                return  # its caller gave up before it started
        try:
            self.result = self.call()
        except BaseException as exc:  # handed back to the caller, never lost here
            self.error = exc
        self.done.set()
        if self.on_done is not None:
            try:
                self.on_done()
            except RuntimeError:  # the caller's event loop is closed: nobody waits
                pass

    def abandon(self) -> None:
        with self._lock:
            self.abandoned = True

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class _Lane:
    """A thread that makes hand-offs one after the other."""

    def __init__(self, owner: Handoffs, index: int) -> None:
        self.owner = owner
        self.queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.busy_since: float | None = None
        self.waiting = 0
        self.thread = threading.Thread(
            target=self._serve, name=f"{owner.name}-handoff-{index}", daemon=True
        )
        with process.process_signals_blocked():
            self.thread.start()

    def stuck(self, now: float) -> bool:
        busy_since = self.busy_since
        return busy_since is not None and now - busy_since > self.owner.timeout

    def _serve(self) -> None:
        while True:
            try:
                job = self.queue.get(timeout=LANE_MAX_IDLE)
            except queue.Empty:
                if self.owner.retire(self):
                    return
                continue
            if job is None:
                return
            self.busy_since = time.monotonic()
            try:
                job.run()
            finally:
                self.busy_since = None
                with self.owner.lock:
                    self.waiting -= 1
                del job


class Handoffs:
    """The lanes of one backend."""

    def __init__(self, name: str, timeout: float, max_lanes: int = 4) -> None:
        self.name = name
        self.timeout = timeout
        self.max_lanes = max_lanes
        self.lock = threading.Lock()
        self.lanes: list[_Lane] = []
        _all.add(self)

    def call(self, function: Callable[[], Any]) -> Any:
        """``function()``'s result, made on a lane; HandoffTimeout if it takes
        longer than the timeout, or if every lane is stuck."""
        job = _Job(function)
        self._lane().queue.put(job)
        if not job.done.wait(self.timeout):
            job.abandon()
            raise HandoffTimeout(
                f"the broker did not take it within {self.timeout:g} s (handoff_timeout)"
            )
        return job.outcome()

    async def acall(self, function: Callable[[], Any]) -> Any:
        """Async twin of ``call``: awaits the lane, never blocks the loop
        nor holds an executor."""
        loop = asyncio.get_running_loop()
        finished = loop.create_future()
        job = _Job(function)

        def finish() -> None:
            if not finished.done():  # not given up on (wait_for cancels it)
                finished.set_result(None)

        def wake() -> None:
            loop.call_soon_threadsafe(finish)

        job.on_done = wake
        self._lane().queue.put(job)
        try:
            await asyncio.wait_for(finished, self.timeout)
        except asyncio.TimeoutError:
            job.abandon()
            raise HandoffTimeout(
                f"the broker did not take it within {self.timeout:g} s (handoff_timeout)"
            ) from None
        return job.outcome()

    def _lane(self) -> _Lane:
        """The least busy lane that is not stuck, a new one if there is room,
        or HandoffTimeout at once if every lane is stuck."""
        now = time.monotonic()
        with self.lock:
            usable = [lane for lane in self.lanes if not lane.stuck(now)]
            idle = [lane for lane in usable if lane.waiting == 0]
            if idle:
                lane = idle[0]
            elif len(self.lanes) < self.max_lanes:
                lane = _Lane(self, len(self.lanes))
                self.lanes.append(lane)
            elif usable:
                lane = min(usable, key=lambda candidate: candidate.waiting)
            else:
                raise HandoffTimeout(
                    f"all {self.max_lanes} hand-off threads are still waiting for the broker, "
                    f"each for over {self.timeout:g} s"
                )
            lane.waiting += 1
            return lane

    def retire(self, lane: _Lane) -> bool:
        """Whether an idle lane may leave (all but the first may)."""
        with self.lock:
            if lane.waiting or not self.lanes or self.lanes[0] is lane:
                return False
            self.lanes.remove(lane)
            return True

    def forget_after_fork(self) -> None:
        # The lanes are the parent's threads.
        self.lock = threading.Lock()
        self.lanes = []


_all: weakref.WeakSet[Handoffs] = weakref.WeakSet()


def _forget_after_fork() -> None:
    for handoffs in list(_all):
        handoffs.forget_after_fork()


process.reset_after_fork(_forget_after_fork)
