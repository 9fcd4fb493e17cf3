"""
Running a delivery: each receiver in order, its future completed with what
it returned or raised, and the steps (``engine.steps``) applied around each
run. Nothing a receiver raises escapes, whatever its kind, except that in
the main thread ``KeyboardInterrupt`` and ``SystemExit`` (Ctrl-C, a SIGTERM
turned into an exit) still propagate once the futures are settled.
"""

from __future__ import annotations

import threading
import time

from ..core import connections
from ..core.threads import in_async_receiver_on_worker
from . import loops, steps
from .async_receivers import run_async_receiver
from .current import delivery_running
from .delivery import Delivery, RetryLater


def run(
    delivery: Delivery,
    on_worker: bool = False,
    retry_later: RetryLater | None = None,
    alias: str = "",
) -> None:
    """
    Run every receiver of ``delivery`` in order, completing its future.

    A failed run that its retry policy retries leaves its future pending and
    hands a one-receiver delivery of the next attempt to
    ``retry_later(delivery, delay)``; without ``retry_later`` the next
    attempt runs at once, here, once the receivers of this delivery have
    run. ``on_worker``: this is a worker thread (or process) of a background
    backend. ``alias``: the backend's, for the steps.
    """
    if retry_later is not None:
        return _run(delivery, on_worker, retry_later, alias)
    # One attempt after the other, not nested in each other: a policy of a
    # thousand attempts must not exhaust the stack.
    waiting: list[Delivery] = []

    def run_at_once(following: Delivery, delay: float) -> None:
        waiting.append(following)

    _run(delivery, on_worker, run_at_once, alias)
    while waiting:
        _run(waiting.pop(0), on_worker, run_at_once, alias)
    return None


def _run(delivery: Delivery, on_worker: bool, retry_later: RetryLater, alias: str) -> None:
    pipeline = steps.pipeline
    for hook in pipeline.on_start:
        hook(delivery)
    succeeded = failed = retried = 0
    context = delivery.context
    # current_dispatch_id() reads it; unset after, so that the context does
    # not keep the delivery alive in a reference cycle.
    context.run(delivery_running.set, delivery)
    try:
        succeeded, failed, retried = _run_receivers(
            delivery, on_worker, retry_later, alias, pipeline
        )
    finally:
        context.run(delivery_running.set, None)
        # A run with a retry ahead is not finished yet.
        finished = len(delivery.receivers) - retried
        for hook in pipeline.on_finish:
            hook(delivery, finished, succeeded, failed)


def _run_receivers(
    delivery: Delivery,
    on_worker: bool,
    retry_later: RetryLater,
    alias: str,
    pipeline: steps.Pipeline,
) -> tuple[int, int, int]:
    succeeded = failed = retried = 0
    signal, sender, kwargs, context = (
        delivery.signal,
        delivery.sender,
        delivery.kwargs,
        delivery.context,
    )
    if on_worker and delivery.async_from < len(delivery.receivers):
        context.run(in_async_receiver_on_worker.set, True)
    first_attempt = delivery.attempt == 1
    on_run_start = pipeline.on_run_start
    for index, (receiver, future) in enumerate(zip(delivery.receivers, delivery.futures)):
        # A retry's future is already running.
        if first_attempt and not future.set_running_or_notify_cancel():
            continue
        for hook in on_run_start:
            hook(delivery, receiver, alias)
        started = time.perf_counter()
        try:
            if index >= delivery.async_from:
                result = run_async_receiver(receiver, context, signal, sender, kwargs)
            else:
                result = context.run(receiver, signal=signal, sender=sender, **kwargs)
        except BaseException as exc:
            failure = steps.Failure(delivery, receiver, alias, started, exc)
            for hook in pipeline.on_failure:
                hook(failure)
            if failure.retry_in is not None:
                retried += 1
                retry_later(delivery.next_attempt(index), failure.retry_in)
                continue
            failed += 1
            if delivery.robust and isinstance(exc, Exception):
                future.set_result(exc)
            else:
                future.set_exception(exc)
            if _must_propagate(exc, on_worker):
                delivery.cancel()
                raise
        else:
            succeeded += 1
            for hook in pipeline.on_success:
                hook(delivery, receiver, alias, started, result)
            future.set_result(result)
    return succeeded, failed, retried


def _must_propagate(exc: BaseException, on_worker: bool) -> bool:
    # Worker threads never get process signals (they block them), so any
    # exception there came from the receiver itself and must not end the
    # worker. In the main thread, Ctrl-C and an exit requested by a signal
    # handler are the process's, not the receiver's.
    return (
        not on_worker
        and isinstance(exc, (KeyboardInterrupt, SystemExit))
        and threading.current_thread() is threading.main_thread()
    )


def release_thread() -> None:
    """Give back what a thread that ran receivers holds, when it idles or
    ends: its database connections and its event loop."""
    connections.close_all()
    loops.close()
