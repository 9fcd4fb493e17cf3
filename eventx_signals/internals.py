"""
Every private name of CPython, Django or asgiref that django-eventx relies
on, in one place: why it is used, how it is checked, and what happens on a
version that changed it.

Each is here because a benchmark in ``benchmarks/`` showed the public way
costing the request path a measurable share of a send, or because there is
no public way. Each is checked once by a probe that exercises the behaviour
assumed, not only the names (at import, or at first use where the probe
needs Django's ORM); a version whose behaviour differs gets the public
behaviour instead of a crash, or, where there is none, a clear error.

1. ``concurrent.futures.Future``'s private state (``_state``,
   ``_condition``, ``_waiters``, ``_done_callbacks``, ``_result``,
   ``_exception`` and the ``PENDING``/``RUNNING``/``FINISHED`` constants of
   ``concurrent.futures._base``). ``engine.futures.ReceiverFuture`` creates
   the future's ``threading.Condition`` only when somebody waits: building
   it costs about a fifth of a send (``benchmarks/instructions.py``).
   Probes: a plain ``Future`` goes through those states (here), and a
   ``ReceiverFuture`` completes, wakes its callbacks and cancels like one
   (``engine.futures``). Fallback: a plain ``Future``.
2. ``asyncio._get_running_loop()``: the check "is this thread running an
   event loop?" without raising, on every send (``core.transactions``).
   Probe: None outside a loop, the loop inside one. Fallback:
   ``asyncio.get_running_loop()`` inside ``try``.
3. ``Signal.sender_receivers_cache`` and ``django.dispatch.dispatcher.
   NO_RECEIVERS``: the no-receiver fast path costs less than Django's own
   ``send()`` only by reading Django's per-sender cache directly
   (``dispatch.signals``, ``dispatch.patching``). Probe: a caching signal
   with receivers, but none for a sender, holds ``NO_RECEIVERS`` for that
   sender after a send. Fallback: an empty dict in its place, so that every send asks
   ``_live_receivers()``.
4. ``Signal._live_receivers(sender)``, returning ``(sync receivers, async
   receivers)`` since Django 5.0: the only way to learn which receivers a
   send would call, and whether each is ``async def`` (``dispatch.sending``,
   ``dispatch.events``, ``inventory``, the payload resolver). Probe: a signal
   with one receiver of each kind. No fallback exists (no public API lists a
   signal's receivers): a Django that changed it is refused at import,
   naming the supported versions, rather than misbehaving.
5. ``sys._getframe()``: the module that defines an ``AsyncSignal``, to name
   the signal in logs (``dispatch.signals``). Probe: it names this module.
   Fallback: no module; the name is then found by searching ``sys.modules``
   alone.
6. ``sys._current_frames()`` (documented, despite its name): the stack of a
   receiver reported as stuck (``backends.thread.pool``). Probe: it holds
   this thread's frame. Fallback: the report says the stack is unknown.
7. asgiref's ``SyncToAsync.threadlocal`` and its ``main_event_loop`` and
   ``main_event_loop_pid`` attributes: set in a worker thread, they make
   ``async_to_sync`` run an ``async def`` receiver on the worker's own
   long-lived event loop, as it does for code inside ``sync_to_async``,
   instead of making a thread and a loop for each run (about 1.8 ms of CPU,
   which an ASGI server's event loop felt as lag) (``engine.loops``). Probe:
   the thread-local exists and takes the attributes. Fallback: where it is
   missing, nothing is set, and an asgiref that stopped reading the
   attributes ignores them; either way each run gets a loop of its own, as
   ``async_to_sync`` makes by itself.
8. Django's ``ModelState.fields_cache`` (``instance._state.fields_cache``,
   the related objects an instance has loaded): the snapshot of an instance
   copies it one level deep (``engine.snapshot``), and the payload codec
   sends it (``backends.out_of_process.codec``), so that a receiver sees
   those objects as they were at send time on every backend. Probe (at the
   first snapshot, which imports the ORM): a fresh state keeps it as a dict
   in its ``__dict__``. Fallback: nothing is copied or sent, and a receiver
   reads related objects from the database, as it would on its own.

9. OpenTelemetry's global provider slots, ``opentelemetry.trace.
   _TRACER_PROVIDER`` and ``opentelemetry.metrics._internal.
   _METER_PROVIDER`` (None until a provider is set): with the ``otel``
   extra installed and no SDK configured, every send asks "is there a
   tracer provider?", and reading the slot costs a fraction of calling
   ``get_tracer_provider()`` (``benchmarks/instructions.py``, the extra
   installed against absent). Probe: the slot is None exactly when the
   public getter returns the API's proxy provider. Fallback: the public
   getter, each time.

And one assumption about Django rather than a name: outside an event loop,
``django.db.connections[alias]`` returns the same wrapper for the life of a
thread (its ``Local`` is thread-local there). ``core.transactions`` caches
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

import django
from django.dispatch import Signal

# -- 1. Future ------------------------------------------------------------------------


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


# -- 2. the running loop -------------------------------------------------------------


def _public_running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _private_running_loop() -> Callable[[], asyncio.AbstractEventLoop | None] | None:
    """``asyncio._get_running_loop`` if it tells a loop from none."""
    private = getattr(asyncio, "_get_running_loop", None)
    if private is None:
        return None
    current = _public_running_loop()
    if current is not None:  # imported from async code: compare with that loop
        return private if private() is current else None
    if private() is not None:
        return None

    async def inside() -> bool:
        return bool(private() is asyncio.get_running_loop())

    loop = asyncio.new_event_loop()
    try:
        return private if loop.run_until_complete(inside()) else None
    finally:
        loop.close()


#: The running event loop of this thread, or None.
running_loop: Callable[[], asyncio.AbstractEventLoop | None] = (
    _private_running_loop() or _public_running_loop
)


# -- 3 and 4. Django's Signal -----------------------------------------------------------


def _no_receivers_marker() -> object:
    """``NO_RECEIVERS`` if a caching signal keeps it for a sender with no
    receiver, else a marker that matches nothing (the fast path then never
    applies)."""
    try:
        from django.dispatch.dispatcher import NO_RECEIVERS
    except ImportError:
        return object()
    signal = Signal(use_caching=True)

    class Sender:
        pass

    class OtherSender:
        pass

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    try:
        signal.connect(receiver, sender=OtherSender, weak=False)
        signal.send(sender=Sender)  # receivers, but none for Sender
        cached = signal.sender_receivers_cache.get(Sender)
    except Exception:
        return object()
    return NO_RECEIVERS if cached is NO_RECEIVERS else object()


#: What Django caches for a sender with no receivers.
NO_RECEIVERS: object = _no_receivers_marker()


def _signals_cache_senders() -> bool:
    return hasattr(getattr(Signal(), "sender_receivers_cache", None), "get")


#: Whether Django's Signal keeps ``sender_receivers_cache``; where it does
#: not, AsyncSignal gives itself an empty one so that the fast path's lookup
#: always misses and every send asks ``_live_receivers()``.
HAS_SENDER_CACHE = _signals_cache_senders()


def _live_receivers_split_sync_and_async() -> bool:
    def sync_receiver(sender: Any, **kwargs: Any) -> None:
        pass

    async def async_receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal = Signal()
    signal.connect(sync_receiver, weak=False)
    signal.connect(async_receiver, weak=False)
    try:
        found = signal._live_receivers(None)
        sync_receivers, async_receivers = found
    except Exception:
        return False
    return list(sync_receivers) == [sync_receiver] and list(async_receivers) == [async_receiver]


if not _live_receivers_split_sync_and_async():
    raise ImportError(
        f"django-eventx cannot find the receivers of a signal on Django "
        f"{django.get_version()}: Signal._live_receivers(sender) no longer returns "
        "(sync receivers, async receivers). It supports Django 5.2, 6.0 and 6.1."
    )


# -- 5 and 6. frames ----------------------------------------------------------------------


def _frame_module(depth: int) -> str | None:
    getframe = getattr(sys, "_getframe", None)
    if getframe is None:
        return None
    try:
        name = getframe(depth + 1).f_globals.get("__name__")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


# Whether sys._getframe() counts frames as assumed.
_GETFRAME_WORKS = _frame_module(0) == __name__


def caller_module(depth: int) -> str | None:
    """The ``__name__`` of the module ``depth`` frames up, if it can be known."""
    return _frame_module(depth + 1) if _GETFRAME_WORKS else None


def thread_stack(ident: int) -> str:
    """The current stack of the thread ``ident``, formatted, if obtainable."""
    current_frames = getattr(sys, "_current_frames", None)
    frame = current_frames().get(ident) if current_frames is not None else None
    if frame is None:
        return "(stack unknown)\n"
    return "".join(traceback.format_stack(frame))


# -- 7. asgiref -------------------------------------------------------------------------------


def _asgiref_threadlocal() -> Any:
    from asgiref.sync import SyncToAsync

    threadlocal = getattr(SyncToAsync, "threadlocal", None)
    if not isinstance(threadlocal, threading.local):
        return None
    names = ("main_event_loop", "main_event_loop_pid")
    saved = {name: getattr(threadlocal, name) for name in names if hasattr(threadlocal, name)}
    try:
        for name in names:
            setattr(threadlocal, name, None)
        works = all(getattr(threadlocal, name) is None for name in names)
    except Exception:
        works = False
    finally:  # this thread's as it was
        for name in names:
            if name in saved:
                setattr(threadlocal, name, saved[name])
            elif hasattr(threadlocal, name):
                delattr(threadlocal, name)
    return threadlocal if works else None


#: asgiref's thread-local that tells ``async_to_sync`` which loop to use in
#: this thread, or None where asgiref no longer has it.
ASGIREF_THREADLOCAL: threading.local | None = _asgiref_threadlocal()


# -- 8. ModelState.fields_cache -------------------------------------------------------------


def model_state_keeps_fields_cache() -> bool:
    """Whether a ModelState keeps its cache of related objects as a dict
    under ``fields_cache`` in its ``__dict__`` (ORM imported: call it at
    first use)."""
    from django.db.models.base import ModelState

    state = ModelState()
    try:
        cache = state.fields_cache
    except AttributeError:
        return False
    return isinstance(cache, dict) and state.__dict__.get("fields_cache") is cache


# -- 9. OpenTelemetry's global provider slots --------------------------------------------


class ProviderSlot:
    """
    Where to read whether an OpenTelemetry global provider (tracer or meter)
    has been set: ``getattr(slot.holder, slot.attribute)`` is None until
    then. That is the API module's own slot where the probe allows (no call
    at all), a property calling the public getter otherwise, and a None
    that never changes when the API is not installed.
    """

    #: Read when the API is not installed.
    no_provider = None

    def __init__(
        self,
        module: Any = None,
        name: str = "",
        get_provider: Callable[[], Any] | None = None,
        proxy_class: type | None = None,
    ) -> None:
        self._get_provider = get_provider
        self._proxy_class = proxy_class
        self.holder: Any = self
        self.attribute = "no_provider"
        if module is None or get_provider is None or proxy_class is None:
            return
        self.attribute = "public_provider"
        # A provider named by environment variable is made on the getter's
        # first call: make it now, so that the slot holds it.
        is_proxy = isinstance(get_provider(), proxy_class)
        try:
            value = getattr(module, name)
        except AttributeError:
            return
        if (value is None) == is_proxy:
            self.holder, self.attribute = module, name

    @property
    def public_provider(self) -> Any:
        """The provider set, or None while the getter returns the proxy."""
        provider = self._get_provider() if self._get_provider is not None else None
        if self._proxy_class is None or isinstance(provider, self._proxy_class):
            return None
        return provider

    def is_set(self) -> bool:
        return getattr(self.holder, self.attribute) is not None


def _tracer_provider_slot() -> ProviderSlot:
    try:
        from opentelemetry import trace
    except ImportError:
        return ProviderSlot()
    return ProviderSlot(
        trace, "_TRACER_PROVIDER", trace.get_tracer_provider, trace.ProxyTracerProvider
    )


def _meter_provider_slot() -> ProviderSlot:
    try:
        from opentelemetry import metrics
        from opentelemetry.metrics import _internal
    except ImportError:
        return ProviderSlot()
    return ProviderSlot(
        _internal,
        "_METER_PROVIDER",
        metrics.get_meter_provider,
        getattr(_internal, "_ProxyMeterProvider", None),
    )


#: Whether a tracer provider, and a meter provider, have been set.
TRACER_PROVIDER = _tracer_provider_slot()
METER_PROVIDER = _meter_provider_slot()
