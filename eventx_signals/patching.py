"""Make an existing Signal instance dispatch in the background, reversibly.

Built on wrapt: each of ``send``, ``send_robust``, ``asend`` and
``asend_robust`` of the one instance is wrapped (never the class), the
handles are kept, and ``unpatch_signal`` removes exactly those wrappers. The
receivers stay connected to the real signal, so ``has_listeners()`` and the
ORM's fast-delete decisions do not change.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import wrapt
from django.db.models.signals import m2m_changed
from django.dispatch import Signal
from django.dispatch.dispatcher import NO_RECEIVERS

from .receivers import is_marked_background
from .signals import AsyncSignal, asend_in_background, send_in_background

_METHODS = ("send", "send_robust", "asend", "asend_robust")


# What a patched signal does with one dispatch.
INLINE = "inline"  # Django's own send, untouched
BACKGROUND = "background"  # every receiver (but keep_inline ones) in the background
MARKED = "marked"  # only background_receiver ones; the others exactly as Django


class SignalPatch:
    """The state of one patched signal: its wrappers, and which dispatches
    go to the background."""

    def __init__(self, signal: Signal) -> None:
        self.is_m2m_changed = signal is m2m_changed
        self.handles: dict[str, Any] = {}
        self.all_receivers = False
        self.has_marked = False
        self.sender_specs: list[Any] | None = None  # None: every sender
        self._senders: set[Any] | None = None

    def senders(self) -> set[Any] | None:
        """The senders whose dispatches go to the background (None: all).
        Labels that name no installed model are skipped; the system checks
        report them."""
        if self.sender_specs is None:
            return None
        if self._senders is None:
            self._senders = {
                sender for sender in map(_resolve_sender, self.sender_specs) if sender is not None
            }
        return self._senders

    def mode(self, sender: Any, named: dict[str, Any]) -> str:
        if self.is_m2m_changed and str(named.get("action", "")).startswith("pre_"):
            # pre_add/pre_remove/pre_clear receivers may veto or prepare the
            # change that follows: they stay inline.
            return INLINE
        if self.all_receivers:
            senders = self.senders()
            if senders is None or sender in senders:
                return BACKGROUND
        return MARKED if self.has_marked else INLINE


_patches: weakref.WeakKeyDictionary[Signal, SignalPatch] = weakref.WeakKeyDictionary()
_lock = threading.RLock()


def patch_signal(
    signal: Signal,
    *,
    senders: Iterable[Any] | None = None,
    marked_only: bool = False,
) -> None:
    """
    Make ``signal`` (an existing ``Signal`` instance, e.g. ``post_save``)
    dispatch its receivers in the background, like an AsyncSignal.

    ``senders``: model classes or ``"app_label.Model"`` labels; dispatches
    from other senders stay inline, as before. Idempotent: patching again
    wraps nothing twice (it updates ``senders``). ``marked_only`` sends only
    receivers decorated with ``background_receiver`` to the background.
    """
    if not isinstance(signal, Signal):
        raise TypeError(f"patch_signal() signal must be a Signal, not {type(signal).__name__}.")
    if isinstance(signal, AsyncSignal):
        raise TypeError(
            "patch_signal() signal is already an AsyncSignal; there is nothing to patch."
        )
    specs = None if senders is None else _sender_specs(senders)
    with _lock:
        patch = _patches.get(signal)
        if patch is None:
            patch = _patches[signal] = SignalPatch(signal)
            _wrap(signal, patch)
        if marked_only:
            patch.has_marked = True
        else:
            patch.all_receivers = True
            patch.sender_specs = specs
            patch._senders = None


def unpatch_signal(signal: Signal) -> None:
    """Undo ``patch_signal``: the signal is Django's again. Unpatching a
    signal that is not patched does nothing."""
    with _lock:
        patch = _patches.pop(signal, None)
        if patch is None:
            return
        for name, handle in patch.handles.items():
            wrapt.unwrap_object(signal, name, handle)


@contextlib.contextmanager
def patched_signal(signal: Signal, *, senders: Iterable[Any] | None = None) -> Iterator[Signal]:
    """Context manager form: patch on entry, unpatch on exit (unless the
    signal was already patched before)."""
    already = is_patched(signal)
    patch_signal(signal, senders=senders)
    try:
        yield signal
    finally:
        if not already:
            unpatch_signal(signal)


def is_patched(signal: Signal) -> bool:
    return signal in _patches


def get_patch(signal: Signal) -> SignalPatch | None:
    return _patches.get(signal)


def patched_signals() -> list[Signal]:
    with _lock:
        return list(_patches.keys())


def _wrap(signal: Signal, patch: SignalPatch) -> None:
    def sync_wrapper(robust: bool) -> Any:
        def wrapper(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
            sender, named = _sender_and_kwargs(args, kwargs)
            if not signal.receivers or signal.sender_receivers_cache.get(sender) is NO_RECEIVERS:
                return []
            mode = patch.mode(sender, named)
            if mode == INLINE:
                return wrapped(*args, **kwargs)
            if mode == MARKED:
                return send_in_background(signal, sender, named, robust, only=is_marked_background)
            return send_in_background(signal, sender, named, robust)

        return wrapper

    def async_wrapper(robust: bool) -> Any:
        async def wrapper(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
            sender, named = _sender_and_kwargs(args, kwargs)
            if not signal.receivers or signal.sender_receivers_cache.get(sender) is NO_RECEIVERS:
                return []
            mode = patch.mode(sender, named)
            if mode == INLINE:
                return await wrapped(*args, **kwargs)
            if mode == MARKED:
                return await asend_in_background(
                    signal, sender, named, robust, only=is_marked_background
                )
            return await asend_in_background(signal, sender, named, robust)

        return wrapper

    for name in _METHODS:
        factory = async_wrapper if name.startswith("a") else sync_wrapper
        patch.handles[name] = wrapt.wrap_function_wrapper(
            signal, name, factory(name.endswith("_robust"))
        )


def _sender_and_kwargs(args: tuple, kwargs: dict) -> tuple[Any, dict[str, Any]]:
    if args:
        return args[0], kwargs
    named = dict(kwargs)
    return named.pop("sender"), named


def _sender_specs(senders: Any) -> list[Any]:
    """Return ``senders`` as a list of model classes and labels, or raise."""
    if isinstance(senders, (str, type)):
        return [senders]
    try:
        specs = list(senders)
    except TypeError:
        raise TypeError(
            "patch_signal() senders must be a list of model classes or "
            f"'app_label.Model' labels, not {type(senders).__name__}."
        ) from None
    for spec in specs:
        if not isinstance(spec, (str, type)):
            raise TypeError(
                "patch_signal() senders must hold model classes or 'app_label.Model' "
                f"labels, not {spec!r}."
            )
    return specs


def _resolve_sender(spec: Any) -> Any:
    if isinstance(spec, str):
        from django.apps import apps

        try:
            return apps.get_model(spec)
        except (LookupError, ValueError):
            return None
    return spec
