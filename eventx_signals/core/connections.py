"""
Database connections of worker threads, cared for like a long-running
worker's: kept across jobs (opening a PostgreSQL connection costs more than
most receivers), checked before each job and replaced when broken, rid of
any transaction a receiver left open, and closed when the worker ends or has
been idle for a while. At most one connection per alias per worker.

Django's own ``close_old_connections()`` is built for requests: with the
default ``CONN_MAX_AGE = 0`` it closes every connection after each one, so a
worker calling it per job would open a new connection for every receiver.
"""

from __future__ import annotations

import logging
import select
import threading
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

logger = logging.getLogger("eventx_signals")

# Threads that opened a database connection at least once. Workers whose
# receivers never touch the database skip the walk over every alias (through
# asgiref's Local) that would otherwise cost each job several microseconds.
_threads_with_connections: set[int] = set()


def _remember_thread(**kwargs: Any) -> None:
    _threads_with_connections.add(threading.get_ident())


connection_created.connect(
    _remember_thread, dispatch_uid="eventx_signals.worker_connections.remember_thread"
)


def _open_connections() -> list[Any]:
    """This thread's connection wrappers that hold an open connection."""
    if threading.get_ident() not in _threads_with_connections:
        return []
    return [
        connection
        for connection in connections.all(initialized_only=True)
        if connection.connection is not None
    ]


def before_job() -> None:
    """Close connections that no longer work, so that the job opens fresh
    ones (after a database restart, say) instead of failing."""
    for connection in _open_connections():
        try:
            usable = _still_usable(connection)
        except Exception:
            usable = False
        if not usable:
            _replace(connection)


def _still_usable(connection: Any) -> bool:
    """
    Whether an idle connection still works, asking the server only when its
    socket says something happened.

    A server that drops a connection (restart, ``pg_terminate_backend()``,
    an idle timeout) sends a last message or closes the socket, which makes
    it readable; an idle connection that works has nothing to read. Polling
    the socket costs a few microseconds, where ``is_usable()`` (a ``SELECT
    1`` round trip) cost about 0.6 ms of the machine's CPU per job,
    PostgreSQL's share included. Drivers without ``fileno()`` (SQLite, whose
    ``is_usable()`` asks nothing) get ``is_usable()``.
    """
    try:
        descriptor = connection.connection.fileno()
    except Exception:
        return bool(connection.is_usable())
    if not _readable(descriptor):
        return True
    # Data waiting (a notice, a notification, or the server's goodbye):
    # only a round trip can tell.
    return bool(connection.is_usable())


def _readable(descriptor: int) -> bool:
    """Whether ``descriptor`` has data (or end of file) waiting; True when it
    cannot even be polled."""
    try:
        if not hasattr(select, "poll"):  # Windows: select() takes sockets
            return bool(select.select([descriptor], [], [], 0)[0])
        poller = select.poll()
        poller.register(descriptor, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def after_job() -> None:
    """Roll back a transaction a receiver left open, and drop connections
    that saw an error and no longer work."""
    for connection in _open_connections():
        try:
            if connection.in_atomic_block:
                # An atomic block a receiver entered and never left: the
                # wrapper's state cannot be repaired, so it is replaced.
                logger.error(
                    "A receiver left an atomic block open on database %r; its "
                    "transaction was rolled back.",
                    connection.alias,
                )
                _replace(connection)
            elif not connection.get_autocommit():
                logger.error(
                    "A receiver left autocommit off on database %r; its transaction "
                    "was rolled back.",
                    connection.alias,
                )
                connection.rollback()
                connection.set_autocommit(True)
            elif connection.errors_occurred and not connection.is_usable():
                _replace(connection)
        except Exception:
            _replace(connection)


def close_all() -> None:
    """Close every connection of this thread (worker ending or idle)."""
    if threading.get_ident() not in _threads_with_connections:
        return
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:
            _replace(connection)


def _replace(connection: Any) -> None:
    """Close ``connection`` whatever its state and give this thread a fresh
    wrapper for its alias."""
    alias = connection.alias
    try:
        connection.close()
    except Exception:
        logger.debug("Closing a broken connection to %r failed.", alias, exc_info=True)
    try:
        del connections[alias]
    except AttributeError:
        pass
