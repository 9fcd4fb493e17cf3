"""Helpers for testing code that dispatches in the background.

Three styles: ``eager()`` runs receivers inline at once (a plain TestCase
sees their effects right after ``save()``); ``capture_dispatches()`` records
dispatches; ``wait_for_runs()`` waits for real background work. The pytest
plugin (``pytest_plugin``) makes fixtures of them.

``capture_events()``, ``CapturedEvent`` and ``wait_for_events()`` are the
names these had: they still work, with a DeprecationWarning.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..backends import backends
from ..core.counters import counters
from ..core.labels import signal_label
from ..core.threads import in_worker
from ..dispatch.modes import modes
from ..runlog import writer

__all__ = ["CapturedDispatch", "capture_dispatches", "eager", "stop_workers", "wait_for_runs"]


def wait_for_runs(timeout: float | None = 10.0) -> None:
    """
    Block until every receiver run dispatched so far in this process has
    finished. Raise TimeoutError naming how many are still pending after
    ``timeout`` seconds (None waits for ever).

    Dispatches still waiting for their transaction to commit are not
    "dispatched" yet and are not waited for. Runs handed to a backend that
    runs receivers in another process (``django_tasks``, ``celery``) are not
    waited for either: this process cannot see them finish. Start a worker
    in the test, or use ``eager()``.
    """
    if in_worker():
        raise RuntimeError(
            "wait_for_runs() cannot be called from a receiver running on a "
            "worker thread: it would wait for itself. Wait on the futures "
            "returned by send() instead."
        )
    counters.wait_until_done(timeout)


def stop_workers(timeout: float = 10.0) -> None:
    """
    Let the worker threads of every backend of this process finish what is
    queued, stop them, and close their database connections and the run
    log writer's; the next send starts new workers.

    Workers keep their connections across jobs, so call it before the test
    databases are destroyed: PostgreSQL refuses to drop a database that a
    session still uses. The pytest plugin does it before pytest-django's
    teardown; with Django's test runner, see docs/howto/testing.rst. Raise
    TimeoutError if a worker or the writer is still busy after ``timeout``
    seconds.
    """
    if in_worker():
        raise RuntimeError("stop_workers() cannot be called from a receiver on a worker thread.")
    deadline = time.monotonic() + timeout
    busy = sum(backend.running_threads() for backend in backends.reset(timeout))
    if busy:
        raise TimeoutError(
            f"stop_workers(): {busy} worker thread(s) still running a receiver after {timeout} s."
        )
    if not writer.close_connection(max(0.0, deadline - time.monotonic())):
        raise TimeoutError(
            f"stop_workers(): the run log writer did not close its connection within {timeout} s."
        )


class eager(contextlib.ContextDecorator):
    """
    Context manager and decorator: while active, every dispatch runs in the
    caller, at once, inside the caller's transaction (ignoring
    EVENTX_ON_COMMIT), so that a plain ``TestCase`` (whose transaction never
    commits) sees the receivers' effects right after ``send()`` or
    ``save()``. What ``EVENTX_EAGER = True`` does for a whole test run.

    A patched signal then behaves exactly as Django's own: ``send()``
    returns the receivers' return values and a receiver's exception reaches
    the caller. An AsyncSignal or a named event keeps its own contract: its
    futures are already complete when ``send()`` returns, and a receiver's
    exception is logged and stored in its future. Process-wide: other
    threads' dispatches run eagerly too.
    """

    def __enter__(self) -> eager:
        modes.enter_eager()
        return self

    def __exit__(self, *exc_info: object) -> None:
        modes.exit_eager()


@dataclass(frozen=True)
class CapturedDispatch:
    """One dispatch seen by ``capture_dispatches()``."""

    signal: Any
    #: The event name, or the dotted path of the signal.
    name: str
    sender: Any
    kwargs: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def capture_dispatches() -> Iterator[list[CapturedDispatch]]:
    """
    Record every dispatch made while active, as ``CapturedDispatch(signal,
    name, sender, kwargs)`` items of the yielded list (``name`` is the event
    name or the signal's dotted path). Receivers still run as usual.
    """
    dispatches: list[CapturedDispatch] = []

    def sink(signal: Any, sender: Any, kwargs: dict[str, Any]) -> None:
        dispatches.append(CapturedDispatch(signal, signal_label(signal), sender, dict(kwargs)))

    modes.add_capture_sink(sink)
    try:
        yield dispatches
    finally:
        modes.remove_capture_sink(sink)


# -- the names of the previous release -----------------------------------------------

_RENAMED = {
    "wait_for_events": "wait_for_runs",
    "capture_events": "capture_dispatches",
    "CapturedEvent": "CapturedDispatch",
}


def __getattr__(name: str) -> Any:
    if name in _RENAMED:
        new = _RENAMED[name]
        warnings.warn(
            f"eventx_signals.testing.{name} is deprecated; use {new} (what it does is unchanged).",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[new]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
