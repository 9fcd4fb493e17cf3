"""
Make an existing Signal instance dispatch in the background, reversibly:
``patch_signal()``, ``background_receiver`` and the EVENTX_ASYNC_SIGNALS
setting that patches signals at start-up.

Built on wrapt: each of ``send``, ``send_robust``, ``asend`` and
``asend_robust`` of the one instance is wrapped (never the class), the
handles are kept, and ``unpatch_signal`` removes exactly those wrappers. The
receivers stay connected to the real signal, so ``has_listeners()`` and the
ORM's fast-delete decisions do not change.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import wrapt
from django.apps import apps
from django.dispatch import Signal

from ..config.async_signals import parse_async_signals, resolve_entry
from ..core.registry import registry
from ..internals import HAS_SENDER_CACHE, NO_RECEIVERS
from .modes import BACKGROUND_MARK, check_callable, is_marked_background, modes
from .sending import asend_in_background, send_in_background
from .signals import AsyncSignal

logger = logging.getLogger("eventx_signals")

F = TypeVar("F", bound=Callable[..., Any])

_METHODS = ("send", "send_robust", "asend", "asend_robust")

# What a patched signal does with one dispatch.
INLINE = "inline"  # Django's own send, untouched
BACKGROUND = "background"  # every receiver (but keep_inline ones) in the background
MARKED = "marked"  # only background_receiver ones; the others exactly as Django
EAGER = "eager"  # would go to the background, but eager(): Django's own send, captured


class SignalPatch:
    """The state of one patched signal: its wrappers, and which dispatches
    go to the background, on which backend alias."""

    def __init__(self, signal: Signal) -> None:
        from django.db.models.signals import m2m_changed  # the ORM, imported on first use

        self.is_m2m_changed = signal is m2m_changed
        self.handles: dict[str, Any] = {}
        self.all_receivers = False
        self.has_marked = False
        self.backend: str | None = None
        self.sender_specs: list[Any] | None = None  # None: every sender
        self._senders: set[Any] | None = None
        #: Every dispatch goes to the background (the wrappers' fast path).
        self.always_background = False

    def configure(self, sender_specs: list[Any] | None, backend: str | None) -> None:
        """Send every receiver of dispatches from ``sender_specs`` (None:
        every sender) to the background, on ``backend``."""
        self.all_receivers = True
        self.sender_specs = sender_specs
        self.backend = backend
        self._senders = None
        self.update_fast_path()

    def update_fast_path(self) -> None:
        """Whether every dispatch goes to the background without a closer
        look: every sender, not m2m_changed, and no eager run under way."""
        self.always_background = (
            self.all_receivers
            and self.sender_specs is None
            and not self.is_m2m_changed
            and not modes.eager
        )

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
        mode = INLINE
        if self.all_receivers:
            senders = self.senders()
            if senders is None or sender in senders:
                mode = BACKGROUND
        if mode == INLINE and self.has_marked:
            mode = MARKED
        if mode != INLINE and modes.eager:
            # Exactly as Django's own signal: return values, exceptions.
            return EAGER
        return mode


# The patches live in the registry: registry.patches, under registry.lock.
_patches = registry.patches
_lock = registry.lock


def _update_fast_paths() -> None:
    with _lock:
        for patch in list(_patches.values()):
            patch.update_fast_path()


modes.watch_eager(_update_fast_paths)


def patch_signal(
    signal: Signal,
    *,
    senders: Iterable[Any] | None = None,
    backend: str | None = None,
    marked_only: bool = False,
) -> None:
    """
    Make ``signal`` (an existing ``Signal`` instance, e.g. ``post_save``)
    dispatch its receivers in the background, like an AsyncSignal.

    ``senders``: model classes or ``"app_label.Model"`` labels; dispatches
    from other senders stay inline, as before. ``backend``: an alias of
    EVENTX_BACKENDS (default ``"default"``). Idempotent: patching again wraps
    nothing twice (it updates ``senders`` and ``backend``). ``marked_only``
    sends only receivers decorated with ``background_receiver`` to the
    background.
    """
    if not isinstance(signal, Signal):
        raise TypeError(f"patch_signal() signal must be a Signal, not {type(signal).__name__}.")
    if isinstance(signal, AsyncSignal):
        raise TypeError(
            "patch_signal() signal is already an AsyncSignal; there is nothing to patch."
        )
    if not (backend is None or (isinstance(backend, str) and backend)):
        raise TypeError(
            f"patch_signal() backend must be an alias of EVENTX_BACKENDS, not {backend!r}."
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
            patch.configure(specs, backend)


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
def patched_signal(
    signal: Signal, *, senders: Iterable[Any] | None = None, backend: str | None = None
) -> Iterator[Signal]:
    """Context manager form: patch on entry, unpatch on exit (unless the
    signal was already patched before)."""
    already = is_patched(signal)
    patch_signal(signal, senders=senders, backend=backend)
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
    return registry.patched()


def background_receiver(
    signal: Signal | list[Signal] | tuple[Signal, ...], **connect_kwargs: Any
) -> Callable[[F], F]:
    """
    Like ``@receiver(signal, **kwargs)``, but this receiver runs in the
    background on a plain Django signal; its other receivers stay inline.
    ``send()`` then returns a future in this receiver's place. The function
    itself is returned unchanged (only marked).
    """
    signals = list(signal) if isinstance(signal, (list, tuple)) else [signal]
    for each in signals:
        if not isinstance(each, Signal):
            raise TypeError(
                f"background_receiver() signal must be a Signal, not {type(each).__name__}."
            )

    def decorator(func: F) -> F:
        check_callable(func, "background_receiver")
        setattr(getattr(func, "__func__", func), BACKGROUND_MARK, True)
        for each in signals:
            if not isinstance(each, AsyncSignal):
                patch_signal(each, marked_only=True)
            each.connect(func, **connect_kwargs)
        return func

    return decorator


def _wrap(signal: Signal, patch: SignalPatch) -> None:
    cache = signal.sender_receivers_cache if HAS_SENDER_CACHE else {}

    def sync_wrapper(robust: bool) -> Any:
        def wrapper(
            wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Any:
            # kwargs is the call's own dict (wrapt builds one per call).
            sender = args[0] if args else kwargs.pop("sender")
            if not signal.receivers or cache.get(sender) is NO_RECEIVERS:
                return []
            if patch.always_background:  # the usual case, kept flat
                return send_in_background(signal, sender, kwargs, robust, patch.backend)
            mode = patch.mode(sender, kwargs)
            if mode == INLINE:
                return wrapped(sender, **kwargs)
            if mode == EAGER:
                if modes.capture_sinks:
                    modes.record(signal, sender, kwargs)
                return wrapped(sender, **kwargs)
            only = is_marked_background if mode == MARKED else None
            return send_in_background(signal, sender, kwargs, robust, patch.backend, only=only)

        return wrapper

    def async_wrapper(robust: bool) -> Any:
        async def wrapper(
            wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Any:
            sender, named = _sender_and_kwargs(args, kwargs)
            if not signal.receivers or cache.get(sender) is NO_RECEIVERS:
                return []
            mode = patch.mode(sender, named)
            if mode == INLINE:
                return await wrapped(sender, **named)
            if mode == EAGER:
                if modes.capture_sinks:
                    modes.record(signal, sender, named)
                return await wrapped(sender, **named)
            only = is_marked_background if mode == MARKED else None
            return await asend_in_background(
                signal, sender, named, robust, patch.backend, only=only
            )

        return wrapper

    for name in _METHODS:
        factory = async_wrapper if name.startswith("a") else sync_wrapper
        patch.handles[name] = wrapt.wrap_function_wrapper(
            signal, name, factory(name.endswith("_robust"))
        )


def _sender_and_kwargs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The sender, and the other keyword arguments: ``kwargs`` itself, the
    call's own dict (wrapt builds one per call), rather than a copy."""
    if args:
        return args[0], kwargs
    return kwargs.pop("sender"), kwargs


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
        try:
            return apps.get_model(spec)
        except (LookupError, ValueError):
            return None
    return spec


# -- EVENTX_ASYNC_SIGNALS --------------------------------------------------------


def apply_async_signals(value: Any) -> list[Signal]:
    """
    Patch every valid entry of EVENTX_ASYNC_SIGNALS and return the signals
    patched. Invalid entries are skipped: the system checks report each with
    its fix, instead of start-up crashing.
    """
    patched = []
    for entry in parse_async_signals(value):
        signal, _, _ = resolve_entry(entry)
        if signal is None or isinstance(signal, AsyncSignal):
            continue  # the checks report it
        patch_signal(signal, senders=entry.senders, backend=entry.backend)
        patched.append(signal)
    return patched
