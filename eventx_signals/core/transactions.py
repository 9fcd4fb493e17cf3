"""Hand a delivery to its backend only once the caller's transaction commits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.connection import ConnectionDoesNotExist

from ..config import changes
from ..internals import running_loop

if TYPE_CHECKING:
    from ..engine.delivery import Delivery

logger = logging.getLogger("eventx_signals")

#: What ``atomic_alias()`` returns when autocommit was turned off by hand
#: (``transaction.set_autocommit(False)``) outside any atomic block. Like
#: Django's ``on_commit()``, which refuses that situation, no background run
#: may start before a commit nobody can see coming: the receivers run in the
#: caller, inside that transaction, as Django's own signal would run them.
MANUAL_TRANSACTION = "<manual transaction>"


# This thread's connection wrapper per alias. Django keeps one wrapper per
# thread in an asgiref Local whose lookup costs about as much as the rest of
# a send; outside an event loop that Local is a plain threading.local, so a
# threading.local of our own caches the very same objects.
_thread_connections = threading.local()
# Bumped when DATABASES changes, which invalidates every thread's cache.
_generation = 0


def atomic_alias(using: Any) -> str | None:
    """
    Return the database alias whose transaction a delivery must wait for,
    None when no atomic block is open there, or MANUAL_TRANSACTION. ``using``
    is the alias the signal names (model signals pass ``using=``); the
    default alias otherwise.
    """
    alias = using if isinstance(using, str) else DEFAULT_DB_ALIAS
    if running_loop() is not None:
        # Async code: Django's Local is per task there, so no caching.
        connection = _lookup(alias)
    else:
        cache = _thread_connections.__dict__
        if cache.get("generation") != _generation:
            cache.clear()
            cache["generation"] = _generation
        connection = cache.get(alias)
        if connection is None:
            connection = cache[alias] = _lookup(alias)
    if connection.in_atomic_block:
        return str(connection.alias)
    # Before it connects, a wrapper's autocommit reads False: only an open
    # connection can be in a transaction managed by hand.
    if connection.autocommit or connection.connection is None:
        return None
    return MANUAL_TRANSACTION


def _lookup(alias: str) -> Any:
    try:
        return connections[alias]
    except ConnectionDoesNotExist:
        return connections[DEFAULT_DB_ALIAS]


def _forget_connections(setting: str) -> None:
    global _generation
    _generation += 1


changes.on_change(_forget_connections, "DATABASES")


def submit_on_commit(delivery: Delivery, alias: str, submit: Callable[[Delivery], None]) -> None:
    """
    Submit ``delivery`` when the transaction on ``alias`` commits.

    If it rolls back, Django drops the callback without calling it; the
    callback's owner is then freed and cancels the futures, so nobody waits
    on them forever.
    """
    transaction.on_commit(_PendingCommit(delivery, submit).submit, using=alias)


class _PendingCommit:
    __slots__ = ("delivery", "_submit")

    def __init__(self, delivery: Delivery, submit: Callable[[Delivery], None]) -> None:
        self.delivery: Delivery | None = delivery
        self._submit = submit

    def submit(self) -> None:
        delivery, self.delivery = self.delivery, None
        if delivery is not None:
            self._submit(delivery)

    def __del__(self) -> None:
        delivery = self.delivery
        if delivery is not None:
            self.delivery = None
            delivery.cancel()
            logger.debug("Discarded %d receiver runs after a rollback.", len(delivery))
