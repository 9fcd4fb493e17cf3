"""Helpers for testing code that dispatches in the background."""

from __future__ import annotations

from .stats import counters
from .worker_pool import in_worker_thread


def wait_for_events(timeout: float | None = 10.0) -> None:
    """
    Block until every receiver run dispatched so far in this process has
    finished. Raise TimeoutError naming how many are still pending after
    ``timeout`` seconds (None waits for ever).

    Dispatches still waiting for their transaction to commit are not
    "dispatched" yet and are not waited for.
    """
    if in_worker_thread():
        raise RuntimeError(
            "wait_for_events() cannot be called from a receiver running on a "
            "worker thread: it would wait for itself. Wait on the futures "
            "returned by send() instead."
        )
    counters.wait_until_done(timeout)
