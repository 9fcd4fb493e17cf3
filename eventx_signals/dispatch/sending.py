"""
The pipeline every background send goes through, for ``AsyncSignal``'s
``send``, ``send_robust``, ``asend``, ``asend_robust``, named events and
patched signals alike:

1. ``prepare()``: find the live receivers, split off those that must run in
   the caller, snapshot the arguments into a ``Delivery``;
2. route (also in ``prepare()``): pick the backend, and the database whose
   commit the delivery waits for;
3. hand off: ``send_in_background()`` / ``asend_in_background()``, the only
   two steps that differ, since the async twin awaits: the backend takes
   the delivery through its one hook, ``dispatch(delivery, commit_alias)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.dispatch import Signal

from ..backends.base import BaseBackend
from ..backends.handler import backends
from ..backends.immediate import inline_backend
from ..config import settings
from ..core.labels import signal_label
from ..core.ratelimit import LogOnce
from ..core.tracing import PROVIDER_ATTRIBUTE, PROVIDER_HOLDER, dispatching
from ..core.transactions import MANUAL_TRANSACTION, atomic_alias
from ..engine.delivery import Delivery
from ..engine.snapshot import snapshot_kwargs
from ..engine.steps import log_robust_failure
from ..exceptions import InvalidBackend
from .modes import is_inline, modes

logger = logging.getLogger("eventx_signals")

Responses = list[tuple[Any, "Future[Any]"]]


#: What ``prepare()`` decided, in this order: the delivery for the
#: background, the part that runs in the caller, the backend, and the
#: database alias whose commit the delivery waits for (each may be None).
#: A plain tuple: made and unpacked at C speed on every send.
Route = tuple[Delivery | None, Delivery | None, BaseBackend | None, str | None]


#: Nothing to run: no live receiver.
NOTHING: Route = (None, None, None, None)


# -- 1 and 2: prepare and route ------------------------------------------------


def prepare(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    robust: bool,
    backend: str | BaseBackend | None,
    on_commit: bool | None,
    only: Callable[[Any], bool] | None,
) -> Route:
    """
    Return the ``Route`` of a send: the background delivery, the part that
    runs in the caller, the backend and the commit alias.

    With ``only``, just the receivers it accepts go to the background; the
    inline part is then called exactly as Django's ``send()`` would call it.
    Otherwise the inline part holds the ``keep_inline`` receivers.
    """
    sync_receivers, async_receivers = signal._live_receivers(sender)
    inline = None
    if modes.special or only is not None:
        delivery, inline = _split(
            signal, sender, named, robust, only, sync_receivers, async_receivers
        )
        if delivery is None and inline is None:
            return NOTHING
        if modes.eager:
            if delivery is not None:
                _round_trip(delivery, backend)
            return delivery, inline, inline_backend, None
    # The usual case, kept flat: each Python call here is a measurable share
    # of what a send costs the request.
    elif sync_receivers or async_receivers:
        delivery = Delivery(
            signal,
            sender,
            snapshot_kwargs(named) if named else named,
            sync_receivers + async_receivers if async_receivers else sync_receivers,
            len(sync_receivers),
            robust,
        )
    else:
        return NOTHING
    # Route: the backend, and the database whose commit to wait for.
    if not isinstance(backend, BaseBackend):
        backend = backends.instances.get(backend) or backends[backend]
    if on_commit is None:
        on_commit = settings.on_commit_value
        if on_commit is None:
            on_commit = settings.on_commit_default()
    alias = atomic_alias(named.get("using")) if on_commit else None
    return delivery, inline, backend, alias


def _round_trip(delivery: Delivery, backend: str | BaseBackend | None) -> None:
    """Under eager(), a delivery meant for a serialising backend gets its
    arguments through that backend's codec, as its worker would."""
    if not isinstance(backend, BaseBackend):
        try:
            backend = backends.instances.get(backend) or backends[backend]
        except InvalidBackend:
            return  # eager() runs it anyway; the checks report the alias
    if backend.serializes:
        backend.round_trip(delivery)


def _split(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    robust: bool,
    only: Callable[[Any], bool] | None,
    sync_receivers: list[Any],
    async_receivers: list[Any],
) -> tuple[Delivery | None, Delivery | None]:
    """
    The background delivery and the inline part, when a test helper, a
    keep_inline mark or ``only`` is in play (and record captured events).
    """
    if not sync_receivers and not async_receivers:
        return None, None
    if modes.capture_sinks:
        modes.record(signal, sender, named)

    def background(receiver: Any) -> bool:
        return (only is None or only(receiver)) and not is_inline(receiver)

    # Django's order (sync first) within each part.
    background_sync = [r for r in sync_receivers if background(r)]
    background_async = [r for r in async_receivers if background(r)]
    inline_sync = [r for r in sync_receivers if not background(r)]
    inline_async = [r for r in async_receivers if not background(r)]
    delivery = inline = None
    if background_sync or background_async:
        delivery = Delivery(
            signal,
            sender,
            snapshot_kwargs(named),
            background_sync + background_async,
            len(background_sync),
            robust,
        )
    if inline_sync or inline_async:
        inline = Delivery(
            signal, sender, named, inline_sync + inline_async, len(inline_sync), robust
        )
    return delivery, inline


# -- 3. hand off ------------------------------------------------------------------


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
    background and return ``[(receiver, future), ...]``; receivers that must
    run in the caller run first (see ``prepare()``).
    """
    delivery, inline, target, alias = prepare(
        signal, sender, named, robust, backend, on_commit, only
    )
    responses: Responses = []
    if inline is not None:
        if only is None:
            inline_backend.submit(inline)
            responses = inline.responses()
        else:
            responses = call_like_django(inline, named)
    if delivery is None:
        return responses
    if getattr(PROVIDER_HOLDER, PROVIDER_ATTRIBUTE) is not None:  # traced
        _hand_off_traced(delivery, target, alias)  # type: ignore[arg-type]
    elif alias is MANUAL_TRANSACTION:
        _warn_manual_transaction(delivery)
        inline_backend.submit(delivery)
    else:
        target.dispatch(delivery, alias)  # type: ignore[union-attr]
    if inline is None:
        receivers = delivery.receivers
        if len(receivers) == 1:  # delivery.responses(), inlined: every send's path
            return [(receivers[0], delivery.futures[0])]
        return delivery.responses()
    return responses + delivery.responses()


async def asend_in_background(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    robust: bool,
    backend: str | BaseBackend | None = None,
    on_commit: bool | None = None,
    only: Callable[[Any], bool] | None = None,
) -> Responses:
    """Async twin of ``send_in_background()``: it awaits where that one calls."""
    delivery, inline, target, alias = prepare(
        signal, sender, named, robust, backend, on_commit, only
    )
    responses: Responses = []
    if inline is not None:
        if only is None:
            await inline_backend.asubmit(inline)
            responses = inline.responses()
        else:
            responses = await sync_to_async(call_like_django)(inline, named)
    if delivery is None:
        return responses
    if getattr(PROVIDER_HOLDER, PROVIDER_ATTRIBUTE) is not None:  # traced
        with dispatching(delivery, target.alias):  # type: ignore[union-attr]
            await _ahand_off(delivery, target, alias)  # type: ignore[arg-type]
    else:
        await _ahand_off(delivery, target, alias)  # type: ignore[arg-type]
    return responses + delivery.responses()


def _hand_off_traced(delivery: Delivery, target: BaseBackend, alias: str | None) -> None:
    """``send_in_background()``'s hand-off (kept inline there, the hot
    path), inside the dispatch's span."""
    with dispatching(delivery, target.alias):
        if alias is MANUAL_TRANSACTION:
            _warn_manual_transaction(delivery)
            inline_backend.submit(delivery)
        else:
            target.dispatch(delivery, alias)


async def _ahand_off(delivery: Delivery, target: BaseBackend, alias: str | None) -> None:
    """``asend_in_background()``'s hand-off."""
    if alias is None:
        await target.adispatch(delivery)
    elif alias is MANUAL_TRANSACTION:
        _warn_manual_transaction(delivery)
        await inline_backend.asubmit(delivery)
    else:
        target.dispatch(delivery, alias)


#: One WARNING per process for sends made in a transaction managed by hand.
log_manual_transaction = LogOnce(logging.WARNING)


def _warn_manual_transaction(delivery: Delivery) -> None:
    log_manual_transaction(
        MANUAL_TRANSACTION,
        "A dispatch of %s was made with autocommit turned off by hand "
        "(transaction.set_autocommit(False)); its receivers ran in the caller, "
        "inside that transaction, as Django's own signals would. Use "
        "transaction.atomic() to have them run in the background after commit. "
        "(Logged once per process.)",
        signal_label(delivery.signal),
    )


def call_like_django(inline: Delivery, named: dict[str, Any]) -> Responses:
    """
    Call receivers in the caller exactly as Django's ``send()`` (or, if
    robust, ``send_robust()``) would: return values, not futures, and a
    non-robust failure propagates and skips the receivers after it.
    """
    responses = []
    signal, sender = inline.signal, inline.sender
    for index, receiver in enumerate(inline.receivers):
        call = async_to_sync(receiver) if index >= inline.async_from else receiver
        try:
            response = call(signal=signal, sender=sender, **named)
        except Exception as err:
            if not inline.robust:
                raise
            log_robust_failure(receiver, err)
            response = err
        responses.append((receiver, response))
    return responses
