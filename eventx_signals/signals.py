"""AsyncSignal, and the background send shared with patched signals."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from asgiref.sync import sync_to_async
from django.dispatch import Signal
from django.dispatch.dispatcher import NO_RECEIVERS

from . import observers
from .backends import BaseBackend, backend_instances, get_backend
from .conf import cached, hot_settings
from .dispatch import Dispatch, call_like_django
from .receivers import split_inline
from .snapshot import snapshot_kwargs
from .transactions import atomic_alias, submit_on_commit

Responses = list[tuple[Any, "Future[Any]"]]

# Every AsyncSignal of the process, for `manage.py eventx list`.
all_async_signals: weakref.WeakSet[Signal] = weakref.WeakSet()


class AsyncSignal(Signal):
    """
    A ``django.dispatch.Signal`` whose ``send()`` returns at once.

    Each receiver runs later on ``backend`` (a name, a dotted path or a
    backend instance; default: ``EVENTX_BACKEND``). ``send()`` returns
    ``[(receiver, future), ...]``: each future resolves to the receiver's
    return value or raises its exception. Inside ``transaction.atomic()``
    receivers run only after commit unless ``on_commit=False`` (default:
    ``EVENTX_ON_COMMIT``).

    Receivers run in Django's order: synchronous receivers in connection
    order, then ``async def`` receivers in connection order.
    """

    def __init__(
        self,
        use_caching: bool = False,
        *,
        backend: str | BaseBackend | None = None,
        on_commit: bool | None = None,
    ) -> None:
        super().__init__(use_caching=use_caching)
        if not (backend is None or isinstance(backend, (str, BaseBackend))):
            raise TypeError(
                "AsyncSignal(backend=...) must be a backend name, a dotted path "
                f"or a BaseBackend instance, not {type(backend).__name__}."
            )
        if not (on_commit is None or isinstance(on_commit, bool)):
            raise TypeError(
                f"AsyncSignal(on_commit=...) must be True, False or None, not {on_commit!r}."
            )
        self.backend = backend
        self.on_commit = on_commit
        # The module that defines the signal, to name it in logs.
        self.eventx_module = sys._getframe(1).f_globals.get("__name__")
        all_async_signals.add(self)

    def send(self, sender: Any, **named: Any) -> Responses:  # type: ignore[override]
        """
        Queue every live receiver and return ``[(receiver, future), ...]``
        without waiting for any of them.
        """
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return send_in_background(self, sender, named, False, self.backend, self.on_commit)

    def send_robust(self, sender: Any, **named: Any) -> Responses:  # type: ignore[override]
        """
        Like ``send()``, but each future resolves to the exception instance a
        failing receiver raised instead of raising it (and the failure is also
        logged to Django's ``django.dispatch`` logger, as ``send_robust`` does).
        """
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return send_in_background(self, sender, named, True, self.backend, self.on_commit)

    async def asend(self, sender: Any, **named: Any) -> Responses:  # type: ignore[override]
        """Async twin of ``send()``; never blocks the event loop on receivers."""
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return await asend_in_background(self, sender, named, False, self.backend, self.on_commit)

    async def asend_robust(self, sender: Any, **named: Any) -> Responses:  # type: ignore[override]
        """Async twin of ``send_robust()``."""
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return await asend_in_background(self, sender, named, True, self.backend, self.on_commit)


def send_in_background(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    robust: bool,
    backend: str | BaseBackend | None = None,
    on_commit: bool | None = None,
    only: Callable[[Any], bool] | None = None,
) -> Responses:
    """
    Dispatch the live receivers of ``signal`` for ``sender`` in the
    background and return ``[(receiver, future), ...]``.

    Receivers marked ``keep_inline`` run in the caller first, their futures
    already complete. With ``only``, just the receivers it accepts go to the
    background; the others are called first, exactly as Django's ``send()``
    would call them (return values, exceptions propagate).
    """
    if observers.special or only is not None:
        return _send_in_general(signal, sender, named, robust, backend, on_commit, only)
    # The common case: every receiver goes to the backend. Kept flat, with
    # _submit() and _route() inlined, because each Python call here is a
    # measurable share of the cost of a send.
    sync_receivers, async_receivers = signal._live_receivers(sender)
    if async_receivers:
        receivers = sync_receivers + async_receivers
    elif sync_receivers:
        receivers = sync_receivers
    else:
        return []
    dispatch = Dispatch(
        signal,
        sender,
        snapshot_kwargs(named) if named else named,
        receivers,
        len(sync_receivers),
        robust,
    )
    if not isinstance(backend, BaseBackend):
        backend = backend_instances.get(backend) or get_backend(backend)
    if on_commit is None:
        on_commit = hot_settings.get("ON_COMMIT")
        if on_commit is None:
            on_commit = cached("ON_COMMIT")
    alias = atomic_alias(named.get("using")) if on_commit else None
    if alias is None:
        backend.submit(dispatch)
    else:
        submit_on_commit(dispatch, alias, backend.submit)
    if len(receivers) == 1:
        return [(receivers[0], dispatch.futures[0])]
    return list(zip(receivers, dispatch.futures))


def _send_in_general(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    robust: bool,
    backend: str | BaseBackend | None,
    on_commit: bool | None,
    only: Callable[[Any], bool] | None,
) -> Responses:
    dispatch, inline = _prepare(signal, sender, named, robust, only)
    responses: Responses = []
    if inline is not None:
        if only is None:
            run_inline(inline)
            responses = list(zip(inline.receivers, inline.futures))
        else:
            responses = call_like_django(
                signal, sender, named, inline.receivers, inline.async_from, robust
            )
    if dispatch is not None:
        _submit(dispatch, named, backend, on_commit)
        responses += zip(dispatch.receivers, dispatch.futures)
    return responses


async def asend_in_background(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    robust: bool,
    backend: str | BaseBackend | None = None,
    on_commit: bool | None = None,
    only: Callable[[Any], bool] | None = None,
) -> Responses:
    """Async twin of ``send_in_background()``."""
    dispatch, inline = _prepare(signal, sender, named, robust, only)
    responses: Responses = []
    if inline is not None:
        if only is None:
            await get_backend("immediate").asubmit(inline)
            responses = list(zip(inline.receivers, inline.futures))
        else:
            responses = await sync_to_async(call_like_django)(
                signal, sender, named, inline.receivers, inline.async_from, robust
            )
    if dispatch is not None:
        chosen, alias = _route(named, backend, on_commit)
        if alias is None:
            await chosen.asubmit(dispatch)
        else:
            submit_on_commit(dispatch, alias, chosen.submit)
        responses += zip(dispatch.receivers, dispatch.futures)
    return responses


def run_inline(dispatch: Dispatch) -> None:
    """Run a dispatch in the caller, as the immediate backend does."""
    get_backend("immediate").submit(dispatch)


def _prepare(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    robust: bool,
    only: Callable[[Any], bool] | None,
) -> tuple[Dispatch | None, Dispatch | None]:
    """Return the background dispatch and the inline one (either may be None)."""
    sync_receivers, async_receivers = signal._live_receivers(sender)
    if not sync_receivers and not async_receivers:
        return None, None
    if observers.capturing:
        observers.record(signal, sender, named)
    kwargs = snapshot_kwargs(named)
    background, background_async_from, inline, inline_async_from = split_inline(
        sync_receivers, async_receivers, only
    )
    return (
        Dispatch(signal, sender, kwargs, background, background_async_from, robust)
        if background
        else None,
        Dispatch(signal, sender, named, inline, inline_async_from, robust) if inline else None,
    )


def _submit(
    dispatch: Dispatch,
    named: dict[str, Any],
    backend: str | BaseBackend | None,
    on_commit: bool | None,
) -> None:
    """Hand ``dispatch`` to its backend now, or when the transaction commits."""
    chosen, alias = _route(named, backend, on_commit)
    if alias is None:
        chosen.submit(dispatch)
    else:
        submit_on_commit(dispatch, alias, chosen.submit)


def _route(
    named: dict[str, Any],
    backend: str | BaseBackend | None,
    on_commit: bool | None,
) -> tuple[BaseBackend, str | None]:
    """Return the backend, and the alias whose commit to wait for (if any)."""
    if observers.eager_depth:
        return get_backend("immediate"), None
    if not isinstance(backend, BaseBackend):
        backend = get_backend(backend)
    if on_commit is None:
        on_commit = cached("ON_COMMIT")
    return backend, atomic_alias(named.get("using")) if on_commit else None
