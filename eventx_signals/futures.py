"""The future handed back for each receiver of a dispatch."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from concurrent.futures._base import PENDING
from typing import Any

# Guards the one-time creation of a future's condition; replaced in a forked
# child because another thread may have held it at the moment of the fork.
_CONDITION_CREATION_LOCK = threading.Lock()


class ReceiverFuture(Future[Any]):
    """
    A ``concurrent.futures.Future`` that creates its condition on first use.

    ``Future.__init__`` builds a ``threading.Condition``, which costs more than
    the rest of a dispatch on the caller's thread. The condition is needed only
    once somebody waits on the future or a worker completes it, so it is built
    then, usually in the worker thread, off the request path. Everything else
    is the standard library's ``Future``.
    """

    def __init__(self) -> None:
        # Deliberately not calling Future.__init__: it would create the
        # condition eagerly. These are the attributes it sets besides it.
        self._state = PENDING
        self._result = None
        self._exception = None
        self._waiters: list[Any] = []
        self._done_callbacks: list[Any] = []

    @property  # type: ignore[override]
    def _condition(self) -> threading.Condition:
        condition = self.__dict__.get("_lazy_condition")
        if condition is None:
            with _CONDITION_CREATION_LOCK:
                condition = self.__dict__.get("_lazy_condition")
                if condition is None:
                    condition = threading.Condition()
                    self.__dict__["_lazy_condition"] = condition
        return condition


def _reset_after_fork() -> None:
    global _CONDITION_CREATION_LOCK
    _CONDITION_CREATION_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
