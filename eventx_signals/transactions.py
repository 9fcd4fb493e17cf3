"""Hand a dispatch to its backend only once the caller's transaction commits."""

from __future__ import annotations

import logging
import threading
from asyncio import _get_running_loop
from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.connection import ConnectionDoesNotExist

from .dispatch import Dispatch

logger = logging.getLogger("eventx_signals")


# This thread's connection wrapper per alias. Django keeps one wrapper per
# thread in an asgiref Local whose lookup costs about as much as the rest of
# a send; outside an event loop that Local is a plain threading.local, so a
# threading.local of our own caches the very same objects.
_thread_connections = threading.local()
# Bumped when DATABASES changes, which invalidates every thread's cache.
_generation = 0


def atomic_alias(using: Any) -> str | None:
    """
    Return the database alias whose transaction a dispatch must wait for, or
    None when no atomic block is open there. ``using`` is the alias the signal
    names (model signals pass ``using=``); the default alias otherwise.
    """
    alias = using if isinstance(using, str) else DEFAULT_DB_ALIAS
    if _get_running_loop() is not None:
        # Async code: Django's Local is per task there, so no caching.
        connection = _lookup(alias)
        return alias if connection.in_atomic_block else None
    cache = _thread_connections.__dict__
    if cache.get("generation") != _generation:
        cache.clear()
        cache["generation"] = _generation
    connection = cache.get(alias)
    if connection is None:
        connection = cache[alias] = _lookup(alias)
    return connection.alias if connection.in_atomic_block else None


def _lookup(alias: str) -> Any:
    try:
        return connections[alias]
    except ConnectionDoesNotExist:
        return connections[DEFAULT_DB_ALIAS]


def _forget_connections(*, setting: str, **kwargs: Any) -> None:
    global _generation
    if setting == "DATABASES":
        _generation += 1


setting_changed.connect(_forget_connections, dispatch_uid="eventx_signals.transactions")


def submit_on_commit(dispatch: Dispatch, alias: str, submit: Callable[[Dispatch], None]) -> None:
    """
    Submit ``dispatch`` when the transaction on ``alias`` commits.

    If it rolls back, Django drops the callback without calling it; the
    callback's owner is then freed and cancels the futures, so nobody waits
    on them forever.
    """
    transaction.on_commit(_PendingCommit(dispatch, submit).submit, using=alias)


class _PendingCommit:
    __slots__ = ("dispatch", "_submit")

    def __init__(self, dispatch: Dispatch, submit: Callable[[Dispatch], None]) -> None:
        self.dispatch: Dispatch | None = dispatch
        self._submit = submit

    def submit(self) -> None:
        dispatch, self.dispatch = self.dispatch, None
        if dispatch is not None:
            self._submit(dispatch)

    def __del__(self) -> None:
        dispatch = self.dispatch
        if dispatch is not None:
            self.dispatch = None
            dispatch.cancel()
            logger.debug("Discarded %d receiver runs after a rollback.", len(dispatch))
