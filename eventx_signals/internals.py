"""
Every private name of CPython or Django that django-eventx relies on, in one
place: why it is used, and what happens on a version that changed it.

Each one is here because a benchmark in ``benchmarks/`` showed the public
way costing the request path a measurable share of a send. Each is checked
once, at import, and a version that changed it gets the public behaviour
instead of a crash.

1. ``concurrent.futures.Future``'s private state (``_state``,
   ``_condition``, ``_waiters``, ``_done_callbacks``, ``_result``,
   ``_exception`` and the ``PENDING``/``RUNNING``/``FINISHED`` constants of
   ``concurrent.futures._base``). ``delivery.ReceiverFuture`` creates the
   future's ``threading.Condition`` only when somebody waits: building it
   costs about a fifth of a send (``benchmarks/instructions.py``).
   Fallback: a plain ``Future``.
2. ``asyncio._get_running_loop()``: the check "is this thread running an
   event loop?" without raising, on every send (``transactions.py``).
   Fallback: ``asyncio.get_running_loop()`` inside ``try``.
3. ``Signal.sender_receivers_cache`` and ``django.dispatch.dispatcher.
   NO_RECEIVERS``: the no-receiver fast path costs less than Django's own
   ``send()`` only by reading Django's per-sender cache directly
   (``signals.py``, ``patching.py``). Fallback: an empty dict in its place,
   so that every send asks ``_live_receivers()`` (the stable surface).
4. ``sys._getframe()``: the module that defines an ``AsyncSignal``, to name
   the signal in logs (``signals.py``). Fallback: no module; the name is then
   found by searching ``sys.modules`` alone.
5. ``sys._current_frames()`` (documented, despite its name): the stack of a
   receiver reported as stuck (``backends/thread.py``). Fallback: the report
   says the stack is unknown.
6. asgiref's ``SyncToAsync.threadlocal`` and its ``main_event_loop`` and
   ``main_event_loop_pid`` attributes: set in a worker thread, they make
   ``async_to_sync`` run an ``async def`` receiver on the worker's own
   long-lived event loop, as it does for code inside ``sync_to_async``,
   instead of making a thread and a loop for each run (about 1.8 ms of CPU,
   which an ASGI server's event loop felt as lag:
   ``reliability/test_5_uvicorn_event_loop_lag.py``) (``worker_loops.py``).
   Fallback: where the thread-local is missing, nothing is set, and an
   asgiref that stopped reading the attributes ignores them; either way
   each run gets a loop of its own, as ``async_to_sync`` makes by itself.

7. Django's ``ModelState.fields_cache`` (``instance._state.fields_cache``,
   the related objects an instance has loaded): the snapshot of an instance
   copies it one level deep (``delivery.copy_instance``), and the payload
   codec sends it (``codec``), so that a receiver sees those objects as they
   were at send time on every backend. Read with ``__dict__.get()``:
   fallback, where Django keeps that cache elsewhere, nothing is copied or
   sent, and a receiver reads related objects from the database, as it
   would on its own.

And one assumption about Django rather than a name: outside an event loop,
``django.db.connections[alias]`` returns the same wrapper for the life of a
thread (its ``Local`` is thread-local there). ``transactions.py`` caches
that wrapper per thread because the ``Local`` lookup cost about as much as
the rest of a send (``benchmarks/instructions.py``). The cache is dropped
when ``DATABASES`` changes, and async code looks the wrapper up every time.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


def _future_internals() -> tuple[str, str, str] | None:
    """Return (PENDING, RUNNING, FINISHED) if ``Future`` still works the way
    ``ReceiverFuture`` assumes, else None."""
    try:
        from concurrent.futures._base import FINISHED, PENDING, RUNNING
    except ImportError:
        return None
    future: Future[Any] = Future()
    names = ("_state", "_condition", "_waiters", "_done_callbacks", "_result", "_exception")
    if not all(name in vars(future) for name in names) or future._state != PENDING:
        return None
    future.set_running_or_notify_cancel()
    if future._state != RUNNING:
        return None
    future.set_result(None)
    if future._state != FINISHED:
        return None
    return PENDING, RUNNING, FINISHED


#: Future states, or None when ``ReceiverFuture`` must be a plain Future.
FUTURE_STATES = _future_internals()


def _public_running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


#: The running event loop of this thread, or None.
running_loop: Callable[[], asyncio.AbstractEventLoop | None] = getattr(
    asyncio, "_get_running_loop", _public_running_loop
)


def _no_receivers_marker() -> object:
    try:
        from django.dispatch.dispatcher import NO_RECEIVERS
    except ImportError:
        return object()  # matches nothing: the fast path just does not apply
    return NO_RECEIVERS


#: What Django caches for a sender with no receivers.
NO_RECEIVERS: object = _no_receivers_marker()


def _signals_cache_senders() -> bool:
    from django.dispatch import Signal

    return hasattr(getattr(Signal(), "sender_receivers_cache", None), "get")


#: Whether Django's Signal keeps ``sender_receivers_cache``; where it does
#: not, AsyncSignal gives itself an empty one so that the fast path's lookup
#: always misses and every send asks ``_live_receivers()``.
HAS_SENDER_CACHE = _signals_cache_senders()


def caller_module(depth: int) -> str | None:
    """The ``__name__`` of the module ``depth`` frames up, if it can be known."""
    getframe = getattr(sys, "_getframe", None)
    if getframe is None:
        return None
    try:
        name = getframe(depth + 1).f_globals.get("__name__")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def thread_stack(ident: int) -> str:
    """The current stack of the thread ``ident``, formatted, if obtainable."""
    current_frames = getattr(sys, "_current_frames", None)
    frame = current_frames().get(ident) if current_frames is not None else None
    if frame is None:
        return "(stack unknown)\n"
    return "".join(traceback.format_stack(frame))


def _asgiref_threadlocal() -> Any:
    from asgiref.sync import SyncToAsync

    threadlocal = getattr(SyncToAsync, "threadlocal", None)
    return threadlocal if isinstance(threadlocal, threading.local) else None


#: asgiref's thread-local that tells ``async_to_sync`` which loop to use in
#: this thread, or None where asgiref no longer has it.
ASGIREF_THREADLOCAL: threading.local | None = _asgiref_threadlocal()
