"""
Which threads run receivers in the background: a send made from one of them
must never wait for room in a queue it is draining, and ``wait_for_runs()``
there would wait for itself.
"""

from __future__ import annotations

import contextvars
import threading

# Set while an ``async def`` receiver runs on a worker (the threads its
# ``sync_to_async`` calls use inherit it); worker threads themselves are
# marked in _worker_threads, which costs a job nothing.
in_async_receiver_on_worker: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "eventx_in_worker", default=False
)
_worker_threads = threading.local()


def mark_worker_thread() -> None:
    """Called once by each worker thread of a background backend."""
    _worker_threads.is_worker = True


def is_worker_thread() -> bool:
    """Whether this thread is a worker thread of a background backend."""
    return getattr(_worker_threads, "is_worker", False)


def in_worker() -> bool:
    """Whether the caller runs inside a receiver on a background worker."""
    return is_worker_thread() or in_async_receiver_on_worker.get()
