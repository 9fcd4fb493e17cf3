"""
The thread backend's worker pool: a bounded queue, worker threads started on
the first delivery, backpressure when the queue is full, stuck receivers
reported, and the queue drained at exit.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...core import connections, metrics, process, sigterm
from ...core.counters import counters
from ...core.labels import signal_label
from ...core.ratelimit import RateLimitedLog
from ...core.threads import in_worker, mark_worker_thread
from ...core.transactions import submit_on_commit
from ...engine.log_fields import dispatch_fields
from ...engine.run import release_thread, run
from ...internals import thread_stack
from .timer import delayed_calls

if TYPE_CHECKING:
    from ...engine.delivery import Delivery

logger = logging.getLogger("eventx_signals")

#: What to do when the queue is full.
WHEN_FULL_POLICIES = ("block", "inline", "drop")

# Put on the queue once per worker to make it exit after the work before it.
_STOP = object()

# How often a sender waiting for room checks that the queue still moves.
_STALL_CHECK_INTERVAL = 0.1


class _Worker:
    """One worker thread and what it is running."""

    __slots__ = ("thread", "extra", "delivery", "started_at", "reported")

    def __init__(self, extra: bool) -> None:
        self.thread: threading.Thread | None = None
        self.extra = extra
        self.delivery: Delivery | None = None
        self.started_at = 0.0
        self.reported = False


class WorkerPool:
    """
    Worker threads fed from one FIFO queue, started on the first delivery.

    The queue is a ``SimpleQueue`` (one C call to put) bounded by checking its
    size before each put. Concurrent senders can overshoot the bound by at
    most one delivery each, which keeps memory bounded without a lock on the
    request path.
    """

    def __init__(
        self,
        *,
        workers: int,
        queue_size: int,
        when_full: str,
        block_timeout: float,
        connection_max_idle: float,
        stuck_after: float,
        max_extra_workers: int,
        alias: str = "default",
        find_replacement: Callable[[str], WorkerPool | None] | None = None,
    ) -> None:
        self.workers = workers
        self.queue_size = queue_size
        self.when_full = when_full
        self.block_timeout = block_timeout
        self.connection_max_idle = connection_max_idle
        self.stuck_after = stuck_after
        self.max_extra_workers = max_extra_workers
        self.alias = alias
        #: The pool that took over this one's alias, when the settings
        #: changed (None: this pool's backend was made by hand).
        self.find_replacement = find_replacement
        self.name = f"eventx-{alias}"
        self.log_inline = RateLimitedLog(logging.WARNING)
        self.log_dropped = RateLimitedLog(logging.ERROR)
        self.after_fork()
        process.drain_at_exit(self)
        _pools.add(self)

    def after_fork(self) -> None:
        # Also the state of a forked child: the parent's threads and queued
        # work stay the parent's.
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._started = False
        self._lock = threading.Lock()
        self._space = threading.Condition(threading.Lock())
        self._blocked_senders = 0
        self._closed = False
        # Stop markers in the queue, to tell them from deliveries queued late.
        self._stops_queued = 0
        self._watchdog_started = False

    # -- submitting -------------------------------------------------------

    def dispatch(self, delivery: Delivery, commit_alias: str | None) -> None:
        """The thread backend's ``dispatch``: queue ``delivery`` now (or at
        the commit of the transaction on ``commit_alias``), applying the
        when-full policy if needed."""
        # submit() inlined: this is every send's path, and each Python call
        # here costs about 5% of a send (benchmarks/instructions.py).
        if commit_alias is not None:
            return submit_on_commit(delivery, commit_alias, self.submit)
        if self._closed or self._queue.qsize() >= self.queue_size:
            return self._submit_when_full(delivery)
        if not self._started:
            self._start()
        runs = len(delivery.receivers)
        if runs == 1:
            counters.dispatched.advance()
        else:
            counters.dispatched.add(runs)
        self._queue.put(delivery)
        if self._closed:
            self._rescue_after_close()
        return None

    def submit(self, delivery: Delivery) -> None:
        """Queue ``delivery``, applying the when-full policy if needed."""
        return self.dispatch(delivery, None)

    def try_put(self, delivery: Delivery) -> bool:
        """Queue ``delivery`` if there is room; never blocks."""
        if self._closed or self._queue.qsize() >= self.queue_size:
            return False
        if not self._started:
            self._start()
        counters.dispatched.add(len(delivery))
        self._queue.put(delivery)
        if self._closed:
            self._rescue_after_close()
        return True

    def _submit_when_full(self, delivery: Delivery) -> None:
        if self._closed:
            return self._hand_on(delivery, accepted=False)
        counters.record_queue_full(len(delivery))
        if self.when_full == "drop":
            counters.record_dropped(self.alias, delivery.receivers)
            delivery.cancel()
            self.log_dropped(
                "Queue of worker pool %s is full (%d deliveries); dropped %d receiver runs of %s.",
                self.name,
                self.queue_size,
                len(delivery),
                signal_label(delivery.signal),
                extra=dispatch_fields(delivery, self.alias),
            )
            return None
        if self.when_full == "block" and not in_worker():
            if self._wait_for_space(delivery):
                return None
            if self._closed:  # replaced or shut down while the sender waited
                return self._hand_on(delivery, accepted=False)
            return self._run_in_caller(
                delivery, f"has had a full queue for {self.block_timeout} seconds"
            )
        # "inline", or a receiver sending while the queue is full (waiting
        # there could deadlock the whole pool on itself).
        return self._run_in_caller(delivery, "has a full queue")

    def _wait_for_space(self, delivery: Delivery) -> bool:
        deadline = time.monotonic() + self.block_timeout
        with self._space:
            self._blocked_senders += 1
            try:
                while True:
                    if self.try_put(delivery):
                        return True
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._closed:
                        return False
                    self._space.wait(min(remaining, _STALL_CHECK_INTERVAL))
                    if self.max_extra_workers:
                        self._start_extra_worker()
            finally:
                self._blocked_senders -= 1

    def _run_in_caller(self, delivery: Delivery, why: str, accepted: bool = False) -> None:
        """Run ``delivery`` in the sending thread; ``accepted``: it was already
        counted as accepted when it was queued."""
        if not accepted:
            counters.dispatched.add(len(delivery))
        counters.record_inline(self.alias, delivery.receivers)
        self.log_inline(
            "Worker pool %s %s; ran %d receiver runs of %s in the sending thread.",
            self.name,
            why,
            len(delivery),
            signal_label(delivery.signal),
            extra=dispatch_fields(delivery, self.alias),
        )
        run(delivery, retry_later=self.retry_later, alias=self.alias)

    def retry_later(self, delivery: Delivery, delay: float) -> None:
        """Queue the retry ``delivery`` after ``delay`` seconds, waiting on
        the timer thread rather than in a worker. A closed pool hands it on
        at once (at exit, nobody would be left to wait for)."""
        if self._closed:
            self._adopt(delivery)
        else:
            delayed_calls.call_later(delay, self, self._adopt, delivery)

    # -- workers ------------------------------------------------------------

    def _start(self) -> None:
        """Start the first worker; it starts the others (see _work)."""
        with self._lock:
            if self._started or self._closed:
                return
            if process.is_exiting() or sys.is_finalizing():
                self._closed = True  # too late for threads: senders run inline
                return
            self._started = True
            try:
                self._start_worker(0, extra=False)
            except RuntimeError:
                self._closed = True  # "can't create new thread at interpreter shutdown"
                return
        sigterm.exit_normally_on_sigterm()

    def _start_worker(self, index: int, extra: bool) -> None:
        """Start one worker thread; call with ``_lock`` held."""
        worker = _Worker(extra)
        thread = threading.Thread(
            target=self._work,
            args=(worker, index),
            name=f"{self.name}-{'extra' if extra else 'worker'}-{index}",
            daemon=True,
        )
        worker.thread = thread
        with process.process_signals_blocked():
            thread.start()  # the thread starts with them blocked, for good
        self._workers = [*self._workers, worker]

    def _start_other_workers(self) -> None:
        # Run by the first worker: starting a thread costs its starter a
        # fraction of a millisecond, which the first send should not pay
        # once per worker.
        with self._lock:
            for index in range(1, self.workers):
                if self._closed:
                    return
                try:
                    self._start_worker(index, extra=False)
                except RuntimeError as exc:  # interpreter shutting down
                    logger.warning(
                        "Worker pool %s runs with %d of %d workers: %s",
                        self.name,
                        index,
                        self.workers,
                        exc,
                    )
                    return
            if self.stuck_after > 0 and not self._watchdog_started:
                self._watchdog_started = True
                watchdog = threading.Thread(
                    target=self._watch, name=f"{self.name}-watchdog", daemon=True
                )
                try:
                    with process.process_signals_blocked():
                        watchdog.start()
                except RuntimeError:  # interpreter shutting down: no watchdog needed
                    pass

    def _start_extra_worker(self) -> None:
        """Start an extra worker if every worker has been on its current
        receiver for more than half the block timeout: the queue is not
        moving, and a sender is waiting for room."""
        with self._lock:
            extras = sum(1 for worker in self._workers if worker.extra)
            if self._closed or extras >= self.max_extra_workers:
                return
            stalled_since = time.monotonic() - self.block_timeout / 2
            if any(
                worker.delivery is None or worker.started_at > stalled_since
                for worker in self._workers
            ):
                return  # some worker is free or still young: the queue moves
            try:
                self._start_worker(len(self._workers), extra=True)
            except RuntimeError:
                return
        logger.warning(
            "Worker pool %s: every worker is busy and the queue is full; started "
            "extra worker %d of at most %d.",
            self.name,
            extras + 1,
            self.max_extra_workers,
        )

    def _work(self, worker: _Worker, index: int) -> None:
        mark_worker_thread()
        if index == 0 and not worker.extra:
            self._start_other_workers()
        get = self._queue.get
        # Extra workers leave once idle; regular ones then close connections.
        idle = self.block_timeout + 1.0 if worker.extra else self.connection_max_idle
        try:
            while True:
                try:
                    delivery = get(timeout=idle) if idle > 0 else get()
                except queue.Empty:
                    if worker.extra:
                        if self._leave(worker, when_idle=True):
                            return
                        continue
                    release_thread()
                    delivery = get()
                if delivery is _STOP:
                    if self._leave(worker, when_idle=False):
                        return
                    continue
                if self._blocked_senders:
                    with self._space:
                        self._space.notify()
                self._run(worker, delivery)  # type: ignore[arg-type]
                # Keep no reference to a finished job while idle: it would keep
                # the sender, model instances and receivers alive.
                del delivery
        finally:
            release_thread()

    def _run(self, worker: _Worker, delivery: Delivery) -> None:
        connections.before_job()
        worker.started_at = time.monotonic()
        worker.reported = False
        worker.delivery = delivery
        try:
            run(delivery, on_worker=True, retry_later=self.retry_later, alias=self.alias)
        except BaseException:  # run() lets nothing out on a worker
            logger.exception("Worker %s caught an exception.", threading.current_thread().name)
        finally:
            worker.delivery = None
            connections.after_job()

    def _leave(self, worker: _Worker, when_idle: bool) -> bool:
        """
        Whether ``worker`` may exit now. A worker leaves on its stop marker
        only once nothing is queued behind it (a sender that read the
        backend just before it was closed may have queued after the
        markers); otherwise it puts the marker back and goes on.
        """
        with self._lock:
            if when_idle:
                if self._closed or self._queue.qsize():
                    return False  # the stop marker, or work, is on its way
            else:
                self._stops_queued -= 1
                if self._queue.qsize() > self._stops_queued:
                    self._stops_queued += 1
                    self._queue.put(_STOP)
                    return False
            self._workers = [other for other in self._workers if other is not worker]
            return True

    def _rescue_after_close(self) -> None:
        """A delivery was queued after shutdown(): if no worker is left to
        take it, nobody will, so hand it on."""
        with self._lock:
            if self._workers:
                return  # a live worker re-checks the queue before leaving
            leftovers = [item for item in _drain(self._queue) if item is not _STOP]
        for item in leftovers:
            self._hand_on(item, accepted=True)  # type: ignore[arg-type]

    def _hand_on(self, delivery: Delivery, accepted: bool) -> None:
        """
        Run a delivery this closed pool can no longer run: on the pool that
        replaced it in EVENTX_BACKENDS, or in this thread when there is none
        (a backend made by hand) or the process is exiting. ``accepted``: it
        was already counted when it was queued here, and must not be
        counted again.
        """
        replacement = None
        if self.find_replacement is not None and not process.is_exiting():
            replacement = self.find_replacement(self.alias)
        if replacement is not None and replacement is not self:
            if accepted:
                replacement._adopt(delivery)
            else:
                replacement.submit(delivery)
            return
        self._run_in_caller(delivery, "is shut down", accepted=accepted)

    def _adopt(self, delivery: Delivery) -> None:
        """Queue a delivery another pool already counted as accepted (a
        straggler of a replaced pool), beyond the bound: there are at most
        as many as senders were racing the replacement."""
        if self._closed:
            return self._hand_on(delivery, accepted=True)
        if not self._started:
            self._start()
        self._queue.put(delivery)
        if self._closed:
            self._rescue_after_close()
        return None

    # -- stuck receivers ------------------------------------------------------

    def _watch(self) -> None:
        """Report receivers running longer than ``stuck_after``, once each,
        with their current stack."""
        interval = min(max(self.stuck_after / 4, 0.05), 5.0)
        while not self._closed:
            time.sleep(interval)
            now = time.monotonic()
            for worker in list(self._workers):
                delivery = worker.delivery
                if (
                    delivery is None
                    or worker.reported
                    or now - worker.started_at < self.stuck_after
                ):
                    continue
                worker.reported = True
                thread = worker.thread
                stack = thread_stack(thread.ident) if thread and thread.ident else "(unknown)\n"
                logger.error(
                    "A receiver of %s has been running for %.0f seconds on %s "
                    "(stuck_after is %s); the queue moves on with other workers. "
                    "Its stack:\n%s",
                    signal_label(delivery.signal),
                    now - worker.started_at,
                    thread.name if thread else "?",
                    self.stuck_after,
                    stack,
                    extra=dispatch_fields(delivery, self.alias),
                )

    # -- life cycle -------------------------------------------------------

    def queue_state(self) -> tuple[int, int]:
        """(deliveries queued, workers running a receiver), for the gauges."""
        workers = self._workers  # replaced, never changed in place
        return self._queue.qsize(), sum(1 for w in workers if w.delivery is not None)

    def running_threads(self) -> int:
        with self._lock:
            workers = list(self._workers)
        return sum(1 for w in workers if w.thread is not None and w.thread.is_alive())

    def shutdown(self, deadline: float | None = None) -> int:
        """
        Stop accepting work, let the workers finish what is queued, and wait
        for them until ``deadline`` (a ``time.monotonic()`` value; None means
        do not wait). Return how many queued deliveries were left.
        """
        # Retries waiting for their backoff are queued now, to be drained.
        delayed_calls.flush(self)
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._stops_queued += len(workers)
            for _ in workers:
                self._queue.put(_STOP)
        with self._space:
            self._space.notify_all()
        if deadline is None:
            if not workers:
                self._rescue_after_close()
            return 0
        for worker in workers:
            if worker.thread is not None:
                worker.thread.join(max(0.0, deadline - time.monotonic()))
        left = [item for item in _drain(self._queue) if item is not _STOP]
        if left and not any(w.thread is not None and w.thread.is_alive() for w in workers):
            # No worker is left to take them (none could be started, say):
            # run them here rather than lose them, while time remains.
            while left and time.monotonic() < deadline:
                run(left.pop(0), alias=self.alias)  # type: ignore[arg-type]
        return len(left)


# Every pool of this process, for the metrics' gauges.
_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


def _queue_states() -> list[tuple[str, int, int]]:
    """(alias, deliveries queued, workers busy) of each open pool."""
    return [(pool.alias, *pool.queue_state()) for pool in list(_pools) if not pool._closed]


metrics.observe_queues(_queue_states)


def _drain(items: queue.SimpleQueue[object]) -> list[object]:
    drained = []
    while True:
        try:
            drained.append(items.get_nowait())
        except queue.Empty:
            return drained
