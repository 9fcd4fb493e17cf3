"""Per-receiver control: keep one receiver inline, or run one in the background.

Both only set an attribute on the function and return the same function:
wrapping it would change its weak-reference lifetime (a weakly connected
wrapper dies at once) and hide ``async def`` from Django's detection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.dispatch import Signal

from . import observers

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on a receiver that must run inline even on an async signal.
INLINE_MARK = "eventx_inline"
#: Attribute set on a receiver that runs in the background on a plain signal.
BACKGROUND_MARK = "eventx_background"


def keep_inline(func: F) -> F:
    """
    Run this receiver in the caller, before ``send()`` returns, even on an
    AsyncSignal or a patched signal (cache invalidation that must be done
    before the response). Its future is already complete when ``send()``
    returns; its exception is logged and stored, never raised.
    """
    _check_callable(func, "keep_inline")
    setattr(getattr(func, "__func__", func), INLINE_MARK, True)
    # Until a receiver is marked, sends skip the per-receiver lookups.
    observers.note_inline_mark()
    return func


def background_receiver(
    signal: Signal | list[Signal] | tuple[Signal, ...], **connect_kwargs: Any
) -> Callable[[F], F]:
    """
    Like ``@receiver(signal, **kwargs)``, but this receiver runs in the
    background on a plain Django signal; its other receivers stay inline.
    ``send()`` then returns a future in this receiver's place.
    """
    from .patching import patch_signal

    signals = list(signal) if isinstance(signal, (list, tuple)) else [signal]
    for each in signals:
        if not isinstance(each, Signal):
            raise TypeError(
                f"background_receiver() signal must be a Signal, not {type(each).__name__}."
            )

    def decorator(func: F) -> F:
        _check_callable(func, "background_receiver")
        setattr(getattr(func, "__func__", func), BACKGROUND_MARK, True)
        for each in signals:
            patch_signal(each, marked_only=True)
            each.connect(func, **connect_kwargs)
        return func

    return decorator


def is_inline(receiver: Any) -> bool:
    return getattr(receiver, INLINE_MARK, False)


def is_marked_background(receiver: Any) -> bool:
    return getattr(receiver, BACKGROUND_MARK, False)


def split_inline(
    sync_receivers: list[Any],
    async_receivers: list[Any],
    only: Callable[[Any], bool] | None,
) -> tuple[list[Any], int, list[Any], int]:
    """
    Split live receivers into (background, its async_from, inline, its
    async_from), keeping Django's order (sync first) within each part.
    """
    wanted = only or (lambda receiver: True)

    def background(receiver: Any) -> bool:
        return wanted(receiver) and not is_inline(receiver)

    background_sync = [r for r in sync_receivers if background(r)]
    background_async = [r for r in async_receivers if background(r)]
    inline_sync = [r for r in sync_receivers if not background(r)]
    inline_async = [r for r in async_receivers if not background(r)]
    return (
        background_sync + background_async,
        len(background_sync),
        inline_sync + inline_async,
        len(inline_sync),
    )


def _check_callable(func: Any, name: str) -> None:
    if not callable(func):
        raise TypeError(f"{name}() must decorate a callable receiver, not {type(func).__name__}.")
