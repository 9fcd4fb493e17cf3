"""
Process life: draining at exit, signal masks of worker threads, and what a
forked child must forget (SIGTERM: ``sigterm``).

Every other module that keeps process-wide state registers its reset here
with ``reset_after_fork()``; this module registers the one fork hook that
runs them, in registration order.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from ..config.settings import shutdown_timeout
from .counters import counters

logger = logging.getLogger("eventx_signals")


class Drainable(Protocol):
    def shutdown(self, deadline: float | None = None) -> int: ...

    def after_fork(self) -> None: ...


# What must forget the parent's state in a forked child, in order.
_fork_resets: list[Callable[[], None]] = []
# Everything that holds queued work to finish at exit (worker pools).
_drainables: weakref.WeakSet[Any] = weakref.WeakSet()
# Called with the deadline once the pools are drained (the run log's last
# write): they record what the drain ran.
_after_drain: list[Callable[[float], None]] = []
_exit_drain_registered = False
# Whether the interpreter has begun shutting down (atexit handlers running).
_exiting = False


def reset_after_fork(reset: Callable[[], None]) -> None:
    """Run ``reset`` in the child after every ``fork()``: the child has none
    of the parent's threads, and locks they held may be held for good."""
    _fork_resets.append(reset)


def _after_fork_in_child() -> None:
    global _exiting
    _exiting = False
    for reset in _fork_resets:
        reset()
    for owner in list(_drainables):
        owner.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# -- draining at exit -------------------------------------------------------


def drain_at_exit(owner: Drainable) -> None:
    """Let ``owner`` finish its queued work when the process exits normally
    (``shutdown(deadline)`` is called with the time left); in a forked child,
    ``after_fork()`` lets it forget the parent's threads and queue. Held
    weakly."""
    _drainables.add(owner)
    _register_exit_drain()


def after_exit_drain(finish: Callable[[float], None]) -> None:
    """Call ``finish(deadline)`` at normal exit, after the pools are drained,
    whether or not this process ever had one (a Celery worker has none)."""
    _after_drain.append(finish)
    _register_exit_drain()


def _register_exit_drain() -> None:
    global _exit_drain_registered
    if not _exit_drain_registered:
        # Registered when the first pool is made, so that it runs before the
        # handlers registered at import time (logging's among them: atexit
        # runs them last-in, first-out).
        _exit_drain_registered = True
        atexit.register(_drain_at_exit)


def has_drainables() -> bool:
    """Whether anything may hold queued work to finish at exit."""
    return bool(_drainables)


def is_exiting() -> bool:
    """
    Whether the interpreter is shutting down, so that no worker thread may be
    started: the exit drain has begun, or this is the main thread running
    after ``threading`` marked it stopped, i.e. an atexit handler (a thread
    it starts would be killed unjoined at finalization, with its queue).
    """
    if _exiting:
        return True
    main = threading.main_thread()
    return threading.current_thread() is main and not main.is_alive()


def drain_all(timeout: float) -> int:
    """
    Let every pool finish its queued work for up to ``timeout`` seconds in
    all; log and return how many receiver runs could not be finished.
    """
    deadline = time.monotonic() + timeout
    if counters.pending + counters.running and under_autoreloader():
        logger.warning(
            "runserver's autoreloader is stopping: it kills this process as soon as it "
            "exits itself, so %d receiver runs still queued or running may be lost. "
            "Run 'runserver --noreload' to have them finish at exit.",
            counters.pending + counters.running,
        )
    for owner in list(_drainables):
        owner.shutdown(deadline)
    for finish in list(_after_drain):
        finish(deadline)
    unfinished = counters.pending + counters.running
    if unfinished:
        logger.warning(
            "%d receiver runs were not finished when the process exited "
            "(EVENTX_SHUTDOWN_TIMEOUT is %s seconds).",
            unfinished,
            timeout,
        )
    return unfinished


def under_autoreloader() -> bool:
    """Whether this process is the server process of ``runserver``'s
    autoreloader, which kills it (SIGKILL) when the reloader itself exits."""
    return os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"


def _drain_at_exit() -> None:
    global _exiting
    _exiting = True
    drain_all(shutdown_timeout())


# -- signal masks of worker threads ------------------------------------------

# Signals a server or the user sends to the process, for its main thread.
_PROCESS_SIGNALS = [
    getattr(signal, name)
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH")
    if hasattr(signal, name)
]


@contextlib.contextmanager
def process_signals_blocked() -> Iterator[None]:
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


reset_after_fork(counters.reset)
