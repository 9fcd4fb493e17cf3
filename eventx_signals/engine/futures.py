"""
The future of one receiver run.

``ReceiverFuture`` is a ``concurrent.futures.Future`` that creates its
``threading.Condition`` only when somebody needs it: building the condition
cost about a fifth of a send (``benchmarks/instructions.py``), and nobody
waits on most futures. It relies on private names of ``Future`` (see
``internals``, item 1), checked once at import; where they do not behave as
assumed, ``ReceiverFuture`` is a plain ``Future``.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from ..core import process
from ..internals import FUTURE_STATES

if FUTURE_STATES is not None:
    _PENDING, _RUNNING, _FINISHED = FUTURE_STATES
    _NOT_DONE = frozenset({_PENDING, _RUNNING})
    # Guards the creation of a future's condition, and the state changes made
    # while a future has none.
    _future_lock = threading.Lock()

    class _LazyFuture(Future[Any]):
        """
        A ``concurrent.futures.Future`` that creates its condition only when
        somebody needs it (see ``internals``, item 1).

        Until somebody waits, adds a callback or cancels (each of which
        creates the condition, under ``_future_lock``), nobody can be
        blocked on the future, so the worker moves it to RUNNING and FINISHED
        under that lock alone. Once the condition exists, the standard
        library's code runs unchanged.
        """

        _state: str = _PENDING
        _result: Any = None
        _exception: BaseException | None = None

        # Not Future.__init__, which creates the condition and the waiter
        # and callback lists eagerly; they are created with the condition.
        __init__ = object.__init__

        @property
        def _condition(self) -> threading.Condition:  # type: ignore[override]
            condition = self.__dict__.get("_lazy_condition")
            if condition is None:
                with _future_lock:
                    condition = self.__dict__.get("_lazy_condition")
                    if condition is None:
                        self._waiters: list[Any] = []
                        self._done_callbacks: list[Any] = []
                        condition = threading.Condition()
                        self.__dict__["_lazy_condition"] = condition
            return condition

        def set_running_or_notify_cancel(self) -> bool:
            with _future_lock:
                if "_lazy_condition" not in self.__dict__ and self._state == _PENDING:
                    self._state = _RUNNING
                    return True
            return super().set_running_or_notify_cancel()

        def set_result(self, result: Any) -> None:
            with _future_lock:
                if "_lazy_condition" not in self.__dict__ and self._state in _NOT_DONE:
                    self._result = result
                    self._state = _FINISHED
                    return
            super().set_result(result)

        def set_exception(self, exception: BaseException | None) -> None:
            with _future_lock:
                if "_lazy_condition" not in self.__dict__ and self._state in _NOT_DONE:
                    self._exception = exception
                    self._state = _FINISHED
                    return
            super().set_exception(exception)

    def _new_future_lock() -> None:
        # Another thread may have held it at the moment of a fork.
        global _future_lock
        _future_lock = threading.Lock()

    def _behaves_as_a_future() -> bool:
        """Whether a _LazyFuture completes, wakes its callbacks, gives its
        result and cancels as a Future does (internals, item 1)."""
        try:
            done: list[Any] = []
            quiet = _LazyFuture()
            if not quiet.set_running_or_notify_cancel():
                return False
            quiet.set_result(1)  # with no condition yet: the lazy path
            watched = _LazyFuture()
            watched.add_done_callback(done.append)  # makes the condition
            watched.set_running_or_notify_cancel()
            watched.set_exception(ValueError("probe"))
            cancelled = _LazyFuture()
            return (
                quiet.done()
                and quiet.result(0) == 1
                and done == [watched]
                and isinstance(watched.exception(0), ValueError)
                and cancelled.cancel()
                and not cancelled.set_running_or_notify_cancel()
                and cancelled.cancelled()
            )
        except Exception:
            return False

    ReceiverFuture: type[Future[Any]] = _LazyFuture if _behaves_as_a_future() else Future
else:  # this Python's Future is not what _LazyFuture assumes

    def _new_future_lock() -> None:
        pass

    ReceiverFuture = Future


# In a forked child, the parent's lock may be held by a thread that is gone.
process.reset_after_fork(_new_future_lock)
