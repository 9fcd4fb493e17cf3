"""Keep database connections of worker threads as tidy as Django's requests."""

from __future__ import annotations

import threading
from typing import Any

from django.db import close_old_connections, connections
from django.db.backends.signals import connection_created

# Threads that opened a database connection at least once. Threads that never
# did have nothing to tidy, and skip the walk over every alias on each job.
_threads_with_connections: set[int] = set()


def _remember_thread(**kwargs: Any) -> None:
    _threads_with_connections.add(threading.get_ident())


connection_created.connect(
    _remember_thread, dispatch_uid="eventx_signals.db_hygiene.remember_thread"
)


def tidy_connections() -> None:
    """
    Close this thread's connections that are broken or older than
    CONN_MAX_AGE, as Django does at the start and end of each request.
    """
    if threading.get_ident() in _threads_with_connections:
        close_old_connections()


def close_thread_connections() -> None:
    """Close every connection this thread opened (when the thread ends)."""
    if threading.get_ident() in _threads_with_connections:
        connections.close_all()
        _threads_with_connections.discard(threading.get_ident())


def forget_threads() -> None:
    """After a fork: the parent's threads do not exist in the child."""
    _threads_with_connections.clear()
