"""The future handed back for each receiver of a dispatch."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from concurrent.futures._base import FINISHED, PENDING, RUNNING
from typing import Any

# Guards the creation of a future's condition, and the state changes made
# while a future has none; replaced in a forked child because another thread
# may have held it at the moment of the fork.
_lock = threading.Lock()


class ReceiverFuture(Future[Any]):
    """
    A ``concurrent.futures.Future`` that creates its condition only when
    somebody needs it.

    ``Future.__init__`` builds a ``threading.Condition``, which costs more than
    the rest of a dispatch on the caller's thread, and completing a future
    acquires it twice more in the worker. Most futures of a dispatch are never
    waited on: until somebody waits, adds a callback or cancels (each of which
    creates the condition, under ``_lock``), nobody can be blocked on the
    future, so the worker moves it to RUNNING and FINISHED under ``_lock``
    alone. Once the condition exists, the standard library's code runs
    unchanged.
    """

    # Future.__init__ sets these on the instance; until a state changes, the
    # class attributes stand in for them.
    _state: str = PENDING
    _result: Any = None
    _exception: BaseException | None = None

    # Deliberately not Future.__init__, which would create the condition and
    # the waiter and callback lists eagerly. Those lists are only used under
    # the condition, so they are created with it.
    __init__ = object.__init__

    @property
    def _condition(self) -> threading.Condition:  # type: ignore[override]
        condition = self.__dict__.get("_lazy_condition")
        if condition is None:
            with _lock:
                condition = self.__dict__.get("_lazy_condition")
                if condition is None:
                    self._waiters: list[Any] = []
                    self._done_callbacks: list[Any] = []
                    condition = threading.Condition()
                    self.__dict__["_lazy_condition"] = condition
        return condition

    def set_running_or_notify_cancel(self) -> bool:
        with _lock:
            if "_lazy_condition" not in self.__dict__ and self._state == PENDING:
                self._state = RUNNING
                return True
        return super().set_running_or_notify_cancel()

    def set_result(self, result: Any) -> None:
        with _lock:
            if "_lazy_condition" not in self.__dict__ and self._state in _NOT_DONE:
                self._result = result
                self._state = FINISHED
                return
        super().set_result(result)

    def set_exception(self, exception: BaseException | None) -> None:
        with _lock:
            if "_lazy_condition" not in self.__dict__ and self._state in _NOT_DONE:
                self._exception = exception
                self._state = FINISHED
                return
        super().set_exception(exception)


_NOT_DONE = frozenset({PENDING, RUNNING})


def _reset_after_fork() -> None:
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
