"""Helpers for testing code that dispatches in the background.

Three styles: ``eager()`` runs receivers inline at once (a plain TestCase
sees their effects right after ``save()``); ``capture_events()`` records
dispatches; ``wait_for_events()`` waits for real background work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .delivery import in_worker
from .labels import signal_label
from .modes import modes
from .stats import counters

__all__ = ["CapturedEvent", "capture_events", "eager", "wait_for_events"]


def wait_for_events(timeout: float | None = 10.0) -> None:
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
            "wait_for_events() cannot be called from a receiver running on a "
            "worker thread: it would wait for itself. Wait on the futures "
            "returned by send() instead."
        )
    counters.wait_until_done(timeout)


class eager(contextlib.ContextDecorator):
    """
    Context manager and decorator: while active, every AsyncSignal, patched
    signal and named event runs its receivers inline, at once, in the
    caller, ignoring EVENTX_ON_COMMIT, so that a plain ``TestCase`` (whose
    transaction never commits) sees their effects right after ``send()`` or
    ``save()``. Process-wide: other threads' dispatches run inline too.
    """

    def __enter__(self) -> eager:
        modes.enter_eager()
        return self

    def __exit__(self, *exc_info: object) -> None:
        modes.exit_eager()


@dataclass(frozen=True)
class CapturedEvent:
    """One dispatch seen by ``capture_events()``."""

    signal: Any
    #: The event name, or the dotted path of the signal.
    name: str
    sender: Any
    kwargs: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def capture_events() -> Iterator[list[CapturedEvent]]:
    """
    Record every dispatch made while active, as ``CapturedEvent(signal,
    name, sender, kwargs)`` items of the yielded list (``name`` is the event
    name or the signal's dotted path). Receivers still run as usual.
    """
    events: list[CapturedEvent] = []

    def sink(signal: Any, sender: Any, kwargs: dict[str, Any]) -> None:
        events.append(CapturedEvent(signal, signal_label(signal), sender, dict(kwargs)))

    modes.add_capture_sink(sink)
    try:
        yield events
    finally:
        modes.remove_capture_sink(sink)
