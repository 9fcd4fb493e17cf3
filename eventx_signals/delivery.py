"""
The unit of work: one send's delivery to its receivers.

A ``Delivery`` holds what the receivers of one ``send()`` need to run later,
elsewhere: the signal, the sender, a snapshot of the keyword arguments, the
receivers in order, one future per receiver, and a copy of the sender's
``contextvars``. ``Delivery.run()`` calls them, completing each future.
"""

from __future__ import annotations

import contextvars
import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync

from . import event_log, process, retries, worker_loops
from .internals import FUTURE_STATES, running_loop
from .labels import LazyLabel, receiver_label, sender_label, signal_label
from .stats import counters

logger = logging.getLogger("eventx_signals")
# Django's own logger for send_robust() failures, kept informed so that tooling
# watching it still sees failures of deferred robust dispatches.
django_dispatch_logger = logging.getLogger("django.dispatch")

# Set while an ``async def`` receiver runs on a worker (the threads its
# ``sync_to_async`` calls use inherit it); worker threads themselves are
# marked in _worker_threads, which costs a job nothing.
_in_async_worker_receiver: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "eventx_in_worker", default=False
)
_worker_threads = threading.local()


def mark_worker_thread() -> None:
    """Called once by each worker thread of a background backend."""
    _worker_threads.is_worker = True


def in_worker() -> bool:
    """Whether the caller runs inside a receiver on a background worker: a
    send from there must never wait for room in a queue it is draining."""
    return getattr(_worker_threads, "is_worker", False) or _in_async_worker_receiver.get()


#: Called with the delivery of a retry and the seconds to wait before it.
RetryLater = Callable[["Delivery", float], None]


# -- the future of one receiver run ------------------------------------------

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

    ReceiverFuture: type[Future[Any]] = _LazyFuture
else:  # this Python's Future is not what _LazyFuture assumes

    def _new_future_lock() -> None:
        pass

    ReceiverFuture = Future


# -- the snapshot of the arguments -------------------------------------------

# Django's Model and ModelState, imported on first use (importing
# eventx_signals must not import the ORM).
_model_class: type | None = None
_model_state_class: type | None = None

# Values of these types are immutable (or, like a model class, not
# snapshotted): the usual keyword arguments of model signals (created, raw,
# using, update_fields=None) are passed on without a closer look.
_SHARED_TYPES = frozenset({bool, int, float, str, bytes, type(None), frozenset, tuple})


def _load_model_classes() -> tuple[type, type]:
    global _model_class, _model_state_class
    from django.db.models import Model
    from django.db.models.base import ModelState

    _model_class, _model_state_class = Model, ModelState
    return Model, ModelState


def snapshot_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    Return ``kwargs`` with model instances and mutable containers copied, so
    that receivers see them as they were sent: a later ``save()`` or
    ``delete()`` in the caller (which sets the primary key to None) is not
    seen by the receiver. Lists, sets and dicts are copied shallowly, with
    model instances inside them copied too; other values are shared.
    """
    model = _model_class or _load_model_classes()[0]
    snapshot = kwargs
    for key, value in kwargs.items():
        value_type = type(value)
        if value_type in _SHARED_TYPES:
            continue
        if isinstance(value, model):
            copied = copy_instance(value)
        elif value_type is list or value_type is set or value_type is dict:
            copied = _copy_container(value, model)
        else:
            continue
        if snapshot is kwargs:
            snapshot = dict(kwargs)
        snapshot[key] = copied
    return snapshot


def copy_instance(instance: Any, related: bool = True) -> Any:
    """
    Copy a model instance as Django's pickling does (field values, the
    instance's state, prefetched results shared), without the pickle
    protocol's detour through ``apps.get_model()``: about five times cheaper
    than ``copy.copy()``. The related objects it had loaded (its
    ``fields_cache``) are copied too, one level deep (``related``), as the
    out-of-process backends send them: a receiver sees them as they were
    when sent, on every backend.
    """
    model_state = _model_state_class or _load_model_classes()[1]
    old_state = instance.__dict__.get("_state")
    if type(old_state) is not model_state:
        return copy.copy(instance)  # a state of some other kind: be general
    new_state = object.__new__(model_state)
    state_dict = old_state.__dict__.copy()
    fields_cache = state_dict.get("fields_cache")  # internals, item 7
    if fields_cache:
        model = _model_class or _load_model_classes()[0]
        state_dict["fields_cache"] = {
            name: copy_instance(value, related=False)
            if related and isinstance(value, model)
            else value
            for name, value in fields_cache.items()
        }
    new_state.__dict__ = state_dict
    values = instance.__dict__.copy()
    values["_state"] = new_state
    new = object.__new__(instance.__class__)
    new.__dict__ = values
    return new


def _copy_container(value: Any, model: type) -> Any:
    if isinstance(value, model):
        return copy_instance(value)
    value_type = type(value)
    if value_type is list or value_type is set:
        # Most containers hold plain values only: a C-speed look at the
        # types of the items, and a C-speed copy, instead of a Python call
        # per item (3 million integers: 0.07 s instead of 0.55 s).
        if _SHARED_TYPES.issuperset(map(type, value)):
            return value.copy()
        return value_type(_copy_container(item, model) for item in value)
    if value_type is dict:
        if _SHARED_TYPES.issuperset(map(type, value.values())):
            return value.copy()
        return {key: _copy_container(item, model) for key, item in value.items()}
    return value


# -- the delivery --------------------------------------------------------------


class Delivery:
    """
    Everything needed to run the receivers of one ``send()`` later, elsewhere.

    ``receivers[async_from:]`` are coroutine functions; ``context`` is a copy
    of the sender's contextvars, entered for every receiver of the delivery.
    """

    __slots__ = (
        "signal",
        "sender",
        "kwargs",
        "receivers",
        "async_from",
        "futures",
        "context",
        "robust",
        "attempt",
        "encoded",
        "queued_at",
        "_dispatch_id",
    )
    #: The JSON payloads of a serialising backend, set at send time (None
    #: for a receiver that runs in this process instead).
    encoded: list[dict[str, Any] | None]
    _dispatch_id: str

    def __init__(
        self,
        signal: Any,
        sender: Any,
        kwargs: dict[str, Any],
        receivers: list[Callable[..., Any]],
        async_from: int,
        robust: bool,
    ) -> None:
        self.signal = signal
        self.sender = sender
        self.kwargs = kwargs
        self.receivers = receivers
        self.async_from = async_from
        self.futures = (
            [ReceiverFuture()] if len(receivers) == 1 else [ReceiverFuture() for _ in receivers]
        )
        self.context = contextvars.copy_context()
        self.robust = robust
        #: 1 for a first run; a retry's delivery holds one receiver and the
        #: number of its attempt.
        self.attempt = 1
        #: When it was sent (``time.time()``), for the event log only: the
        #: clock costs every send a few percent.
        self.queued_at = time.time() if event_log.enabled else None
        # ``encoded``: set by backends that send the delivery to another
        # process (see ``payloads``), at send time.

    def __len__(self) -> int:
        return len(self.receivers)

    @property
    def dispatch_id(self) -> str:
        """The id of the dispatch this delivery runs receivers of (a UUID,
        as 32 hex digits), shared by its parts and later attempts; made on
        first use, since most sends never need it."""
        try:
            return self._dispatch_id
        except AttributeError:
            self._dispatch_id = uuid.uuid4().hex
            return self._dispatch_id

    @dispatch_id.setter
    def dispatch_id(self, value: str) -> None:
        self._dispatch_id = value

    def responses(self) -> list[tuple[Any, Future[Any]]]:
        """``[(receiver, future), ...]``, what ``send()`` returns."""
        if len(self.receivers) == 1:
            return [(self.receivers[0], self.futures[0])]
        return list(zip(self.receivers, self.futures))

    def run(
        self,
        in_worker_thread: bool = False,
        retry_later: RetryLater | None = None,
        alias: str = "",
    ) -> None:
        """
        Run every receiver in order, completing its future; never raises for
        a receiver's exception, whatever its kind, except that in the main
        thread ``KeyboardInterrupt`` and ``SystemExit`` (Ctrl-C, a SIGTERM
        turned into an exit) still propagate after the futures are settled.

        A failed run that its retry policy retries leaves its future pending
        and hands a one-receiver delivery of the next attempt to
        ``retry_later(delivery, delay)``; without ``retry_later`` the next
        attempt runs at once, here, once the receivers of this delivery have
        run. ``alias``: the backend's, for the event log.
        """
        if retry_later is not None:
            return self._run(in_worker_thread, retry_later, alias)
        # One attempt after the other, not nested in each other: a policy of
        # a thousand attempts must not exhaust the stack.
        waiting: list[Delivery] = []

        def run_at_once(following: Delivery, delay: float) -> None:
            waiting.append(following)

        self._run(in_worker_thread, run_at_once, alias)
        while waiting:
            waiting.pop(0)._run(in_worker_thread, run_at_once, alias)
        return None

    def _run(self, in_worker_thread: bool, retry_later: RetryLater, alias: str) -> None:
        runs = len(self.receivers)
        if self.attempt == 1:  # a retry continues a run already started
            if runs == 1:
                counters.started.advance()
            else:
                counters.started.add(runs)
        succeeded = failed = retried = 0
        try:
            succeeded, failed, retried = self._run_receivers(in_worker_thread, retry_later, alias)
        finally:
            # A run with a retry ahead is not finished yet.
            counters.finished(runs - retried, succeeded, failed)

    def cancel(self) -> None:
        """Cancel the futures of receivers that have not started."""
        for future in self.futures:
            future.cancel()

    def _run_receivers(
        self, in_worker_thread: bool, retry_later: RetryLater, alias: str
    ) -> tuple[int, int, int]:
        succeeded = failed = retried = 0
        signal, sender, kwargs, context = self.signal, self.sender, self.kwargs, self.context
        if in_worker_thread and self.async_from < len(self.receivers):
            context.run(_in_async_worker_receiver.set, True)
        first_attempt = self.attempt == 1
        for index, (receiver, future) in enumerate(zip(self.receivers, self.futures)):
            # A retry's future is already running.
            if first_attempt and not future.set_running_or_notify_cancel():
                continue
            started = time.perf_counter()
            try:
                if index >= self.async_from:
                    result = run_async_receiver(receiver, context, signal, sender, kwargs)
                else:
                    result = context.run(receiver, signal=signal, sender=sender, **kwargs)
            except BaseException as exc:
                try:
                    delay = retries.delay_before_retry(receiver, exc, self.attempt)
                except Exception:  # a broken policy: no retry, the run still ends
                    logger.exception("The retry policy of %s failed.", receiver_label(receiver))
                    delay = None
                self._log_failure(receiver, exc, delay)
                if event_log.enabled:
                    status = "failed" if delay is None else "retried"
                    self._record(receiver, alias, status, started, exc)
                if delay is not None:
                    retried += 1
                    self._retry(index, delay, retry_later)
                    continue
                failed += 1
                if self.robust and isinstance(exc, Exception):
                    future.set_result(exc)
                else:
                    future.set_exception(exc)
                if _must_propagate(exc, in_worker_thread):
                    self.cancel()
                    raise
            else:
                succeeded += 1
                if event_log.enabled:
                    self._record(receiver, alias, "succeeded", started, None)
                if logger.isEnabledFor(logging.INFO):
                    logger.info(
                        "Receiver %s of %s (sender %s) finished in %.1f ms.",
                        LazyLabel(receiver_label, receiver),
                        LazyLabel(signal_label, signal),
                        LazyLabel(sender_label, sender),
                        (time.perf_counter() - started) * 1000,
                    )
                future.set_result(result)
        return succeeded, failed, retried

    def _record(
        self, receiver: Any, alias: str, status: str, started: float, exc: BaseException | None
    ) -> None:
        duration = time.perf_counter() - started
        event_log.record(self, receiver, alias, status, time.time() - duration, duration, exc)

    def _log_failure(self, receiver: Any, exc: BaseException, delay: float | None) -> None:
        policy = retries.policy_for(receiver)
        if delay is not None:
            outcome = f" (attempt {self.attempt} of {policy.max_attempts}; retrying in {delay:g} s)"
        elif policy.max_attempts > 1:
            outcome = f" (attempt {self.attempt} of {policy.max_attempts}; not retried)"
        else:
            outcome = ""
        logger.error(
            "Receiver %s of %s (sender %s) raised %s%s.",
            LazyLabel(receiver_label, receiver),
            LazyLabel(signal_label, self.signal),
            LazyLabel(sender_label, self.sender),
            type(exc).__name__,
            outcome,
            exc_info=exc,
        )
        if delay is None and self.robust and isinstance(exc, Exception):
            log_robust_failure(receiver, exc)

    def part(self, indexes: list[int]) -> Delivery:
        """A delivery of the receivers at ``indexes`` only, sharing their
        futures, the arguments and the sender's context."""
        piece: Delivery = Delivery.__new__(Delivery)
        piece.signal = self.signal
        piece.sender = self.sender
        piece.kwargs = self.kwargs
        piece.receivers = [self.receivers[index] for index in indexes]
        piece.async_from = sum(1 for index in indexes if index < self.async_from)
        piece.futures = [self.futures[index] for index in indexes]
        piece.context = self.context
        piece.robust = self.robust
        piece.attempt = self.attempt
        piece.queued_at = self.queued_at
        piece.dispatch_id = self.dispatch_id
        return piece

    def next_attempt(self, index: int) -> Delivery:
        """A delivery of the next attempt of receiver ``index``, sharing its
        future, its arguments and a copy of the sender's context."""
        following: Delivery = Delivery.__new__(Delivery)
        following.signal = self.signal
        following.sender = self.sender
        following.kwargs = self.kwargs
        following.receivers = [self.receivers[index]]
        following.async_from = 0 if index >= self.async_from else 1
        following.futures = [self.futures[index]]
        following.context = self.context.copy()
        following.robust = self.robust
        following.attempt = self.attempt + 1
        following.queued_at = self.queued_at
        following.dispatch_id = self.dispatch_id
        retries.set_attempt(following.context, following.attempt)
        return following

    def _retry(self, index: int, delay: float, retry_later: RetryLater) -> None:
        following = self.next_attempt(index)
        counters.record_retry()
        retry_later(following, delay)


def _must_propagate(exc: BaseException, in_worker_thread: bool) -> bool:
    # Worker threads never get process signals (they block them), so any
    # exception there came from the receiver itself and must not end the
    # worker. In the main thread, Ctrl-C and an exit requested by a signal
    # handler are the process's, not the receiver's.
    return (
        not in_worker_thread
        and isinstance(exc, (KeyboardInterrupt, SystemExit))
        and threading.current_thread() is threading.main_thread()
    )


def log_robust_failure(receiver: Any, exc: Exception) -> None:
    """Report a robust dispatch's failure the way Django's send_robust() does."""
    django_dispatch_logger.error(
        "Error calling %s in Signal.send_robust() (%s)",
        getattr(receiver, "__qualname__", receiver),
        exc,
        exc_info=exc,
    )


def run_async_receiver(
    receiver: Callable[..., Any],
    context: contextvars.Context,
    signal: Any,
    sender: Any,
    kwargs: dict[str, Any],
) -> Any:
    """
    Run an ``async def`` receiver to completion from synchronous code, in
    ``context``.

    ``async_to_sync`` runs the coroutine on an event loop (on a worker, the
    worker's own long-lived one: ``worker_loops``) and sends the receiver's
    ``sync_to_async`` calls (Django's async ORM among them) back to this
    thread: on a worker, its database queries use the worker's own,
    cared-for connections. A thread that already runs an event loop cannot
    do that, so there a helper thread does it.
    """
    call = async_to_sync(receiver)
    if running_loop() is None:
        if getattr(_worker_threads, "is_worker", False):
            worker_loops.attach()
        return context.run(call, signal=signal, sender=sender, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(
            lambda: context.run(call, signal=signal, sender=sender, **kwargs)
        ).result()


# In a forked child, the parent's lock may be held by a thread that is gone.
process.reset_after_fork(_new_future_lock)
