"""A bounded queue of dispatches and the worker threads that run them."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import signal
import threading
import time
import weakref
from collections.abc import Iterator

from .db_hygiene import close_thread_connections, forget_threads, tidy_connections
from .dispatch import Dispatch
from .stats import counters

logger = logging.getLogger("eventx_signals")

# Put on the queue once per worker to make it exit after the work before it.
_STOP = object()

#: What to do when the queue is full.
WHEN_FULL_POLICIES = ("block", "inline", "drop")

# Every pool of the process, for draining at exit and resetting after fork.
_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()
# Identities of all worker threads of all pools.
_worker_idents: set[int] = set()
_exit_drain_registered = False


def in_worker_thread() -> bool:
    """Whether the current thread is a worker of some pool."""
    return threading.get_ident() in _worker_idents


class WorkerPool:
    """
    Worker threads fed from one FIFO queue, started on the first dispatch.

    The queue is a ``SimpleQueue`` (one C call to put) bounded by checking its
    size before each put. Concurrent senders can overshoot the bound by at
    most one dispatch each, which keeps memory bounded without a lock on the
    request path.
    """

    def __init__(
        self,
        *,
        workers: int,
        queue_size: int,
        when_full: str,
        block_timeout: float,
        name: str = "eventx",
    ) -> None:
        self.workers = workers
        self.queue_size = queue_size
        self.when_full = when_full
        self.block_timeout = block_timeout
        self.name = name
        self._reset()
        _pools.add(self)
        _register_exit_drain()

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self._space = threading.Condition(threading.Lock())
        self._blocked_senders = 0
        self._closed = False

    # -- submitting -------------------------------------------------------

    def submit(self, dispatch: Dispatch) -> None:
        """Queue ``dispatch``, applying the when-full policy if needed."""
        # try_put() inlined, and counters.accepted() too for the usual single
        # run: this is every send's path, and each Python call here costs
        # about 5% of a send (benchmarks/instructions.py measures it).
        if self._closed or self._queue.qsize() >= self.queue_size:
            return self._submit_when_full(dispatch)
        if not self._threads:
            self._start()
        if len(dispatch.receivers) == 1:
            next(counters.accepted_runs)
        else:
            counters.accepted(len(dispatch.receivers))
        self._queue.put(dispatch)
        return None

    def try_put(self, dispatch: Dispatch) -> bool:
        """Queue ``dispatch`` if there is room; never blocks."""
        if self._closed or self._queue.qsize() >= self.queue_size:
            return False
        if not self._threads:
            self._start()
        counters.accepted(len(dispatch))
        self._queue.put(dispatch)
        return True

    def _submit_when_full(self, dispatch: Dispatch) -> None:
        if self._closed:
            # The process is exiting or the backend was replaced: nobody
            # will take work from the queue any more, so do it here.
            logger.warning(
                "Worker pool %s is shut down; running %d receivers of %s inline.",
                self.name,
                len(dispatch),
                dispatch.signal,
            )
            return self._run_inline(dispatch)
        if self.when_full == "drop":
            counters.record_dropped(len(dispatch))
            dispatch.cancel()
            logger.error(
                "Queue of worker pool %s is full (%d dispatches); dropped %d receiver runs of %s.",
                self.name,
                self.queue_size,
                len(dispatch),
                dispatch.signal,
            )
            return None
        if self.when_full == "block" and not in_worker_thread():
            if self._wait_for_space(dispatch):
                return None
            logger.warning(
                "Queue of worker pool %s stayed full for %s seconds; running %d "
                "receivers of %s inline.",
                self.name,
                self.block_timeout,
                len(dispatch),
                dispatch.signal,
            )
        # "inline", a block that timed out, or a worker sending while the
        # queue is full (blocking there could deadlock the whole pool).
        return self._run_inline(dispatch)

    def _wait_for_space(self, dispatch: Dispatch) -> bool:
        deadline = time.monotonic() + self.block_timeout
        with self._space:
            self._blocked_senders += 1
            try:
                while True:
                    if self.try_put(dispatch):
                        return True
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._closed:
                        return False
                    self._space.wait(remaining)
            finally:
                self._blocked_senders -= 1

    def _run_inline(self, dispatch: Dispatch) -> None:
        counters.accepted(len(dispatch))
        dispatch.run()

    # -- workers ------------------------------------------------------------

    def _start(self) -> None:
        """Start the first worker; it starts the others (see _work)."""
        with self._start_lock:
            if self._threads or self._closed:
                return
            self._threads = [self._new_worker(0)]
        _exit_normally_on_sigterm()

    def _start_other_workers(self) -> None:
        # Run by the first worker: starting a thread costs its starter a
        # fraction of a millisecond, which the first send should not pay
        # once per worker.
        with self._start_lock:
            for index in range(1, self.workers):
                if self._closed:
                    return
                try:
                    thread = self._new_worker(index)
                except RuntimeError as exc:
                    # Python 3.12+ refuses new threads once the interpreter
                    # is shutting down: go on with the workers there are.
                    logger.warning(
                        "Worker pool %s runs with %d of %d workers: %s",
                        self.name,
                        index,
                        self.workers,
                        exc,
                    )
                    return
                self._threads = [*self._threads, thread]

    def _new_worker(self, index: int) -> threading.Thread:
        thread = threading.Thread(
            target=self._work, args=(index,), name=f"{self.name}-worker-{index}", daemon=True
        )
        with _process_signals_blocked():
            thread.start()  # the thread starts with them blocked, for good
        return thread

    def _work(self, index: int) -> None:
        if index == 0:
            self._start_other_workers()
        ident = threading.get_ident()
        _worker_idents.add(ident)
        get = self._queue.get
        try:
            while True:
                dispatch = get()
                if dispatch is _STOP:
                    break
                if self._blocked_senders:
                    with self._space:
                        self._space.notify()
                tidy_connections()
                try:
                    dispatch.run(in_worker=True, cleanup=tidy_connections)  # type: ignore[attr-defined]
                except BaseException:
                    logger.exception(
                        "Worker %s stopped by an exception.", threading.current_thread().name
                    )
                    raise
                # Keep no reference to a finished job while idle: it would keep
                # the sender, model instances and receivers alive.
                del dispatch
        finally:
            _worker_idents.discard(ident)
            close_thread_connections()

    # -- life cycle -------------------------------------------------------

    def close(self, deadline: float | None = None) -> int:
        """
        Stop accepting work, let the workers finish what is queued, and wait
        for them until ``deadline`` (a ``time.monotonic()`` value; None means
        do not wait). Return how many queued dispatches were left.
        """
        with self._start_lock:
            self._closed = True
            threads = self._threads
        with self._space:
            self._space.notify_all()
        for _ in threads:
            self._queue.put(_STOP)
        if deadline is None:
            return 0
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = [item for item in _drain(self._queue) if item is not _STOP]
        if left and not any(thread.is_alive() for thread in threads):
            # No worker is left to take them (none could be started, say):
            # run them here rather than lose them, while time remains.
            while left and time.monotonic() < deadline:
                left.pop(0).run()  # type: ignore[attr-defined]
        return len(left)


def _drain(items: queue.SimpleQueue[object]) -> list[object]:
    drained = []
    while True:
        try:
            drained.append(items.get_nowait())
        except queue.Empty:
            return drained


def drain_all_pools(timeout: float) -> None:
    """
    Let every pool finish its queued work for up to ``timeout`` seconds in
    all, then log how many receiver runs could not be finished.
    """
    deadline = time.monotonic() + timeout
    pools = list(_pools)
    for pool in pools:
        pool.close(deadline)
    unfinished = counters.pending + counters.running
    if unfinished:
        logger.warning(
            "%d receiver runs were not finished when the process exited "
            "(EVENTX_SHUTDOWN_TIMEOUT is %s seconds).",
            unfinished,
            timeout,
        )


def _drain_at_exit() -> None:
    from .conf import conf

    try:
        timeout = float(conf.SHUTDOWN_TIMEOUT)
    except Exception:  # settings unusable this late: use the default
        timeout = 10.0
    drain_all_pools(timeout)


def _register_exit_drain() -> None:
    # Registered when the first pool is made, so it runs before the handlers
    # registered at import time (logging's among them: atexit is LIFO).
    global _exit_drain_registered
    if not _exit_drain_registered:
        _exit_drain_registered = True
        atexit.register(_drain_at_exit)


# Signals a server or the user sends to the process, for its main thread.
_PROCESS_SIGNALS = [
    getattr(signal, name)
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH")
    if hasattr(signal, name)
]


@contextlib.contextmanager
def _process_signals_blocked() -> Iterator[None]:
    """
    Block process signals in this thread for the duration, so that a thread
    started meanwhile has them blocked from its first instruction on.

    Worker threads must never take them: the kernel hands a signal sent to
    the process to any thread that does not block it, Python runs handlers
    in the main thread only, and a main thread blocked in a wait (a server's
    accept loop, Event.wait()) is woken only if the signal is delivered to
    it. A worker taking SIGTERM would delay its handler until the wait ends.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _PROCESS_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _raise_system_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _exit_normally_on_sigterm() -> None:
    """
    Turn SIGTERM into a normal exit (SystemExit in the main thread), so that
    the exit drain runs, but only where nobody handles SIGTERM already: the
    default action kills the process without running any Python code.
    Servers that handle SIGTERM themselves (gunicorn, uWSGI) are left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _raise_system_exit)
    except (ValueError, OSError):  # not the main interpreter, or no SIGTERM
        pass


def _reset_pools_after_fork() -> None:
    # The child has none of the parent's threads; what the parent had queued
    # belongs to the parent and must not run a second time here.
    forget_threads()
    _worker_idents.clear()
    for pool in list(_pools):
        pool._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pools_after_fork)
