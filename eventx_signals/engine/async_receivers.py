"""
``async def`` receivers, run to completion from the synchronous run loop.

``async_to_sync`` runs the coroutine on an event loop (on a worker, the
worker's own long-lived one: ``engine.loops``) and sends the receiver's
``sync_to_async`` calls (Django's async ORM among them) back to this thread:
on a worker, its database queries use the worker's own, cared-for
connections. A thread that already runs an event loop cannot do that, so
there a helper thread does it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync

from ..core.threads import is_worker_thread
from ..internals import running_loop
from . import loops


def run_async_receiver(
    receiver: Callable[..., Any],
    context: contextvars.Context,
    signal: Any,
    sender: Any,
    kwargs: dict[str, Any],
) -> Any:
    """Run an ``async def`` receiver in ``context``; return its result."""
    call = async_to_sync(receiver)
    if running_loop() is None:
        if is_worker_thread():
            loops.attach()
        return context.run(call, signal=signal, sender=sender, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(
            lambda: context.run(call, signal=signal, sender=sender, **kwargs)
        ).result()
