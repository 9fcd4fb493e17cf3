"""One dispatch of a signal: its receivers, their futures, and running them."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .futures import ReceiverFuture
from .labels import LazyLabel, receiver_label, sender_label, signal_label
from .stats import counters

logger = logging.getLogger("eventx_signals")
# Django's own logger for send_robust() failures, kept informed so that tooling
# watching it still sees failures of deferred robust dispatches.
django_dispatch_logger = logging.getLogger("django.dispatch")


class Dispatch:
    """
    Everything needed to run the receivers of one ``send()`` later, elsewhere.

    ``receivers[async_from:]`` are coroutine functions; ``context`` is a copy
    of the sender's contextvars, entered once for the whole dispatch.
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
    )

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
            [ReceiverFuture()]
            if len(receivers) == 1
            else [ReceiverFuture() for _ in receivers]
        )
        self.context = contextvars.copy_context()
        self.robust = robust

    def __len__(self) -> int:
        return len(self.receivers)

    def run(self, in_worker: bool = False, cleanup: Callable[[], None] | None = None) -> None:
        """
        Run every receiver in order, completing its future; never raises for
        a receiver's exception. Worker threads run ``async def`` receivers on
        an event loop of their own that lives as long as the thread.
        ``cleanup`` runs after the receivers, before the runs count as
        finished (so ``wait_for_events()`` returns only after it).
        """
        runs = len(self.receivers)
        counters.started(runs)
        succeeded = failed = 0
        try:
            succeeded, failed = self._run_receivers(in_worker)
        finally:
            try:
                if cleanup is not None:
                    cleanup()
            finally:
                counters.finished(runs, succeeded, failed)

    def cancel(self) -> None:
        """Cancel the futures of receivers that have not started."""
        for future in self.futures:
            future.cancel()

    def _run_receivers(self, in_worker: bool) -> tuple[int, int]:
        succeeded = failed = 0
        signal, sender, kwargs, context = self.signal, self.sender, self.kwargs, self.context
        index = 0
        try:
            for index, (receiver, future) in enumerate(zip(self.receivers, self.futures)):
                if not future.set_running_or_notify_cancel():
                    continue
                started = time.perf_counter()
                try:
                    if index >= self.async_from:
                        result = run_coroutine(
                            receiver(signal=signal, sender=sender, **kwargs),
                            context,
                            thread_event_loop() if in_worker else None,
                        )
                    else:
                        result = context.run(receiver, signal=signal, sender=sender, **kwargs)
                except Exception as exc:
                    failed += 1
                    self._log_failure(receiver, exc)
                    if self.robust:
                        future.set_result(exc)
                    else:
                        future.set_exception(exc)
                else:
                    succeeded += 1
                    if logger.isEnabledFor(logging.INFO):
                        logger.info(
                            "Receiver %s of %s (sender %s) finished in %.1f ms.",
                            LazyLabel(receiver_label, receiver),
                            LazyLabel(signal_label, signal),
                            LazyLabel(sender_label, sender),
                            (time.perf_counter() - started) * 1000,
                        )
                    future.set_result(result)
        except BaseException as exc:
            # KeyboardInterrupt, SystemExit...: fail the running future, cancel
            # the rest so that nobody waits forever, and let it propagate.
            future = self.futures[index]
            if not future.done():
                future.set_exception(exc)
            self.cancel()
            raise
        return succeeded, failed

    def _log_failure(self, receiver: Any, exc: Exception) -> None:
        logger.error(
            "Receiver %s of %s (sender %s) raised %s.",
            LazyLabel(receiver_label, receiver),
            LazyLabel(signal_label, self.signal),
            LazyLabel(sender_label, self.sender),
            type(exc).__name__,
            exc_info=exc,
        )
        if self.robust:
            log_robust_failure(receiver, exc)


def log_robust_failure(receiver: Any, exc: Exception) -> None:
    """Report a robust dispatch's failure the way Django's send_robust() does."""
    django_dispatch_logger.error(
        "Error calling %s in Signal.send_robust() (%s)",
        getattr(receiver, "__qualname__", receiver),
        exc,
        exc_info=exc,
    )


def run_coroutine(
    coroutine: Any,
    context: contextvars.Context,
    loop: asyncio.AbstractEventLoop | None,
) -> Any:
    """
    Run a receiver's coroutine to completion from synchronous code, in
    ``context`` (shared with the other receivers of the dispatch).

    Workers pass their own long-lived loop. Inline runs (``loop=None``) use a
    fresh loop, or a helper thread when this thread already runs an event
    loop, which cannot be re-entered.
    """
    if loop is not None:
        if sys.version_info >= (3, 11):
            return loop.run_until_complete(loop.create_task(coroutine, context=context))
        # Python 3.10 tasks cannot take a context: run in a copy of it.
        return context.run(loop.run_until_complete, coroutine)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        if sys.version_info >= (3, 11):
            with asyncio.Runner() as runner:
                return runner.run(coroutine, context=context)
        return context.run(asyncio.run, coroutine)
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(run_coroutine, coroutine, context, None).result()


_worker_loops = threading.local()


def thread_event_loop() -> asyncio.AbstractEventLoop:
    """Return this thread's own event loop for async receivers."""
    loop = getattr(_worker_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _worker_loops.loop = asyncio.new_event_loop()
    return loop


def call_like_django(
    signal: Any,
    sender: Any,
    named: dict[str, Any],
    receivers: list[Callable[..., Any]],
    async_from: int,
    robust: bool,
) -> list[tuple[Any, Any]]:
    """
    Call receivers in the caller exactly as Django's ``send()`` (or, if
    ``robust``, ``send_robust()``) would: return values, not futures, and a
    non-robust failure propagates and skips the receivers after it.
    """
    from asgiref.sync import async_to_sync

    responses = []
    for index, receiver in enumerate(receivers):
        call = async_to_sync(receiver) if index >= async_from else receiver
        try:
            response = call(signal=signal, sender=sender, **named)
        except Exception as err:
            if not robust:
                raise
            log_robust_failure(receiver, err)
            response = err
        responses.append((receiver, response))
    return responses
