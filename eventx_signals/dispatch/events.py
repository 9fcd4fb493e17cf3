"""Named events: a string-keyed namespace of AsyncSignals.

``@event_listener("user_registered")`` connects a listener,
``trigger_event("user_registered", user=user)`` dispatches it exactly like
``AsyncSignal.send``. One AsyncSignal per name, created on first use.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ..config.installation import warn_if_not_installed
from ..core.labels import receiver_label
from ..core.registry import registry
from .modes import modes
from .sending import Responses
from .signals import AsyncSignal

F = TypeVar("F", bound=Callable[..., Any])

# The events live in the registry: name -> AsyncSignal, and name -> the
# dotted paths of the listeners registered with @event_listener.
_events: dict[str, AsyncSignal] = registry.events  # type: ignore[assignment]
_listeners = registry.listener_paths
_lock = registry.lock


def _check_name(name: Any, function: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{function}() name must be a str, not {type(name).__name__}.")
    if not name.strip():
        raise ValueError(f"{function}() name must not be empty.")
    return name


def get_event(name: str) -> AsyncSignal:
    """Return the AsyncSignal behind the event ``name``, creating it."""
    return _event(name, "get_event")


def _event(name: Any, function: str) -> AsyncSignal:
    # Names already known skip the checks (and the lock).
    signal = _events.get(name) if isinstance(name, str) else None
    if signal is not None:
        return signal
    _check_name(name, function)
    with _lock:
        signal = _events.get(name)
        if signal is None:
            signal = AsyncSignal()
            signal.eventx_label = name  # type: ignore[attr-defined]
            _events[name] = signal
        return signal


def event_signal(name: str) -> AsyncSignal | None:
    """The AsyncSignal of the event ``name`` if it exists; never creates one."""
    return _events.get(name)


def event_listener(name: str, *, sender: Any = None) -> Callable[[F], F]:
    """
    Register the decorated function as a listener of the event ``name``.

    The listener may take ``**kwargs`` like a signal receiver, or name just
    the keyword arguments it uses (``def send_welcome_email(user)``); it gets
    ``sender`` and ``signal`` only if it names them. ``async def`` listeners
    work too. Listeners are held strongly and registered once per dotted
    path, so importing a module twice does not register twice.
    """
    _check_name(name, "event_listener")

    def decorator(func: F) -> F:
        if not callable(func):
            raise TypeError(
                f"event_listener() must decorate a callable, not {type(func).__name__}."
            )
        path = receiver_label(func)
        get_event(name).connect(
            _adapt(func), sender=sender, weak=False, dispatch_uid=f"eventx:{name}:{path}"
        )
        with _lock:
            paths = _listeners.setdefault(name, [])
            if path not in paths:
                paths.append(path)
        return func

    return decorator


def trigger_event(name: str, sender: Any = None, **kwargs: Any) -> Responses:
    """Dispatch the event ``name`` exactly like ``AsyncSignal.send``."""
    signal = _events.get(name) if isinstance(name, str) else None
    if signal is None:
        _check_name(name, "trigger_event")
        return _unheard(name, sender, kwargs)
    responses = signal.send(sender, **kwargs)
    if not responses and modes.capture_sinks:
        modes.record(signal, sender, kwargs)
    return responses


async def atrigger_event(name: str, sender: Any = None, **kwargs: Any) -> Responses:
    """Async twin of ``trigger_event``."""
    signal = _events.get(name) if isinstance(name, str) else None
    if signal is None:
        _check_name(name, "atrigger_event")
        return _unheard(name, sender, kwargs)
    responses = await signal.asend(sender, **kwargs)
    if not responses and modes.capture_sinks:
        modes.record(signal, sender, kwargs)
    return responses


def _unheard(name: str, sender: Any, kwargs: dict[str, Any]) -> Responses:
    """
    Trigger an event nobody has listened to: nothing runs, and no signal is
    created for the name (a program triggering many dynamic names would
    otherwise keep one AsyncSignal alive per name).
    """
    warn_if_not_installed()
    if modes.capture_sinks:
        modes.record(_UnheardEvent(name), sender, kwargs)
    return []


class _UnheardEvent:
    """Stands for an event without a signal in what capture_dispatches() records."""

    def __init__(self, name: str) -> None:
        self.eventx_label = name

    def __repr__(self) -> str:
        return f"<event {self.eventx_label!r}, no listeners>"


def list_registered_events() -> dict[str, list[str]]:
    """Every named event with the dotted paths of its listeners, by name."""
    with _lock:
        names = sorted(_events)
        listeners = {name: list(_listeners.get(name, [])) for name in names}
    for name in names:
        sync_receivers, async_receivers = _events[name]._live_receivers(None)
        for receiver in sync_receivers + async_receivers:
            path = receiver_label(getattr(receiver, "eventx_listener", receiver))
            if path not in listeners[name]:
                listeners[name].append(path)
    return listeners


def _accepts_var_keyword(func: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _adapt(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``func`` itself if it takes ``**kwargs``, else a receiver that
    passes it only the keyword arguments it names (same sync/async kind)."""
    if _accepts_var_keyword(func):
        return func
    names = frozenset(
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )

    def pick(signal: Any, sender: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        picked = {key: value for key, value in kwargs.items() if key in names}
        if "sender" in names:
            picked["sender"] = sender
        if "signal" in names:
            picked["signal"] = signal
        return picked

    if inspect.iscoroutinefunction(func):

        async def async_listener(signal: Any, sender: Any, **kwargs: Any) -> Any:
            return await func(**pick(signal, sender, kwargs))

        return _named_after(async_listener, func)

    def listener(signal: Any, sender: Any, **kwargs: Any) -> Any:
        return func(**pick(signal, sender, kwargs))

    return _named_after(listener, func)


def _named_after(adapter: Callable[..., Any], func: Callable[..., Any]) -> Callable[..., Any]:
    """
    Give ``adapter`` the listener's name, for logs and ``eventx list``,
    without ``__wrapped__``: inspect.signature() would follow it to the
    listener, and Django's connect() (with DEBUG on) would then refuse the
    adapter for not taking ``**kwargs``.
    """
    functools.update_wrapper(adapter, func, updated=())
    del adapter.__wrapped__  # type: ignore[attr-defined]
    adapter.eventx_listener = func  # type: ignore[attr-defined]
    return adapter
