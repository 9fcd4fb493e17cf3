"""Hand a dispatch to its backend only once the caller's transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.connection import ConnectionDoesNotExist

from .dispatch import Dispatch

logger = logging.getLogger("eventx_signals")


def atomic_alias(using: Any) -> str | None:
    """
    Return the database alias whose transaction a dispatch must wait for, or
    None when no atomic block is open there. ``using`` is the alias the signal
    names (model signals pass ``using=``); the default alias otherwise.
    """
    alias = using if isinstance(using, str) else DEFAULT_DB_ALIAS
    try:
        connection = connections[alias]
    except ConnectionDoesNotExist:
        alias = DEFAULT_DB_ALIAS
        connection = connections[alias]
    return alias if connection.in_atomic_block else None


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
