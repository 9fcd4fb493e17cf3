"""Receivers raising BaseException subclasses must not kill their workers.

Usage: base_exceptions.py

With workers=4: 4 dispatches to a receiver raising each of CancelledError,
SystemExit, KeyboardInterrupt and GeneratorExit (16 runs, enough to kill
every worker 4 times over), then 100 ordinary dispatches; then 4 dispatches
to an ``async def`` receiver raising CancelledError and 100 ordinary ones
again. Prints what the futures hold, how many ordinary runs finished, the
failed counter after each phase and the worker threads left alive.
"""

import asyncio
import threading
from concurrent.futures import wait

from _child import configure, result

configure({"workers": 4}, EVENTX_SHUTDOWN_TIMEOUT=2)

from eventx_signals import AsyncSignal, stats  # noqa: E402

KINDS = {
    "CancelledError": asyncio.CancelledError,
    "SystemExit": SystemExit,
    "KeyboardInterrupt": KeyboardInterrupt,
    "GeneratorExit": GeneratorExit,
}

raising = AsyncSignal()
async_raising = AsyncSignal()
ordinary = AsyncSignal()


def raise_it(sender, kind, **kwargs):
    raise KINDS[kind]()


async def async_cancelled(sender, **kwargs):
    await asyncio.sleep(0)
    raise asyncio.CancelledError()


def ordinary_receiver(sender, n, **kwargs):
    return n


raising.connect(raise_it)
async_raising.connect(async_cancelled)
ordinary.connect(ordinary_receiver)


def held(futures):
    """What each future holds once done: the exception's class name."""
    done, _ = wait(futures, timeout=10)
    return [
        type(future.exception()).__name__
        if future in done and not future.cancelled()
        else "not done"
        for future in futures
    ]


def ordinary_phase():
    futures = [future for n in range(100) for _, future in ordinary.send(sender=None, n=n)]
    done, _ = wait(futures, timeout=10)
    return sum(1 for future in done if not future.cancelled() and future.exception() is None)


raised = [future for kind in KINDS for _ in range(4) for _, future in raising.send(None, kind=kind)]
raised_held = held(raised)
ordinary_done = ordinary_phase()
failed_after_sync = stats()["failed"]

async_raised = [future for _ in range(4) for _, future in async_raising.send(None)]
async_held = held(async_raised)
ordinary_done_after_async = ordinary_phase()

result(
    raised=raised_held,
    ordinary_done=ordinary_done,
    failed_after_sync=failed_after_sync,
    async_raised=async_held,
    ordinary_done_after_async=ordinary_done_after_async,
    failed_after_async=stats()["failed"],
    workers_alive=sum(
        1
        for thread in threading.enumerate()
        if thread.name.startswith("eventx-") and "worker" in thread.name
    ),
)
