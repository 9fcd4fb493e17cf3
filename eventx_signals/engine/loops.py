"""
One event loop per worker thread, kept for the ``async def`` receivers the
worker runs.

``async_to_sync`` called from a plain thread makes a new thread and a new
event loop for every call and throws both away after it: about 1.8 ms of
CPU per receiver run, taken from the web process's own requests (and, on
an ASGI server, from its event loop, which waits for the GIL meanwhile).

A worker thread that runs an ``async def`` receiver gets instead a
companion thread running one event loop, started once and kept until the
worker idles or ends. The worker then calls ``async_to_sync`` the way code
running inside ``sync_to_async`` does (see ``internals``, item 6): the
coroutine runs on the companion loop, while the worker waits and runs its
``sync_to_async`` calls itself, so Django's async ORM uses the worker's own
cared-for connections, as before. Each worker has its own loop, so an
``async def`` receiver that blocks its loop holds up only its own worker.

Tasks a receiver started and left running are cancelled when the loop
closes, as ``asyncio.run()`` does at the end of every run.
"""

from __future__ import annotations

import asyncio
import os
import threading

from ..internals import ASGIREF_THREADLOCAL

_this_thread = threading.local()

#: Seconds to wait for a companion loop to finish its tasks' cancellation.
CLOSE_TIMEOUT = 5.0


class _CompanionLoop:
    """An event loop running in a thread of its own until ``close()``."""

    def __init__(self, worker_name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()
        self.thread = threading.Thread(
            target=self._serve, name=_loop_name(worker_name), daemon=True
        )
        self.thread.start()

    def _serve(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    def close(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:  # already closed
            return
        self.thread.join(CLOSE_TIMEOUT)


def _loop_name(worker_name: str) -> str:
    # "eventx-default-worker-1" -> "eventx-default-loop-1"
    return worker_name.replace("-worker-", "-loop-").replace("-extra-", "-extra-loop-")


def attach() -> None:
    """
    Route this worker thread's ``async_to_sync`` calls to its companion loop,
    starting the loop on first use. Without asgiref's thread-local (a version
    that changed it), nothing is done: each call gets a loop of its own.
    """
    if ASGIREF_THREADLOCAL is None:
        return
    companion: _CompanionLoop | None = getattr(_this_thread, "companion", None)
    if companion is None or companion.pid != os.getpid():
        companion = _this_thread.companion = _CompanionLoop(threading.current_thread().name)
    # Set before every run: a sync_to_async call the worker served may have
    # pointed it at the loop of that call.
    ASGIREF_THREADLOCAL.main_event_loop = companion.loop
    ASGIREF_THREADLOCAL.main_event_loop_pid = companion.pid


def close() -> None:
    """Stop this thread's companion loop, if it has one (worker idle or ending)."""
    companion: _CompanionLoop | None = getattr(_this_thread, "companion", None)
    if companion is None:
        return
    _this_thread.companion = None
    if ASGIREF_THREADLOCAL is not None:
        for name in ("main_event_loop", "main_event_loop_pid"):
            try:
                delattr(ASGIREF_THREADLOCAL, name)
            except AttributeError:
                pass
    if companion.pid == os.getpid():
        companion.close()
