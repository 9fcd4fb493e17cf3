"""
How a send is routed besides the usual way: process-wide switches the test
helpers and the ``EVENTX_EAGER`` setting turn on (eager runs, capturing), and
per-receiver marks (``keep_inline``, and the mark ``background_receiver``
sets).

Marks only set an attribute on the function and return the same function:
wrapping it would change its weak-reference lifetime (a weakly connected
wrapper dies at once) and hide ``async def`` from Django's detection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..config import changes
from ..config.settings import EAGER

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on a receiver that must run inline even on an async signal.
INLINE_MARK = "eventx_inline"
#: Attribute set on a receiver that runs in the background on a plain signal.
BACKGROUND_MARK = "eventx_background"

# A capture sink is called with (signal, sender, kwargs) for each dispatch.
CaptureSink = Callable[[Any, Any, dict[str, Any]], None]


class SendModes:
    """
    The switches a send consults. ``special`` is true when any of them is on,
    so that the usual send pays a single attribute lookup for all of them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: How many eager() blocks are active.
        self.eager_depth = 0
        #: EVENTX_EAGER, set by the app's ready() and when the setting changes.
        self.eager_setting = False
        #: Whether dispatches run eagerly: in the caller, at once, as Django's
        #: own signals run (eager() or EVENTX_EAGER).
        self.eager = False
        #: Active capture_events() sinks.
        self.capture_sinks: tuple[CaptureSink, ...] = ()
        #: Whether any receiver was ever marked keep_inline.
        self.inline_marks = False
        self.special = False
        # Called with no argument when ``eager`` changes (patched signals
        # recompute their fast path).
        self._eager_watchers: list[Callable[[], None]] = []

    def _update(self) -> None:
        eager = bool(self.eager_depth or self.eager_setting)
        changed = eager != self.eager
        self.eager = eager
        self.special = bool(eager or self.capture_sinks or self.inline_marks)
        if changed:
            for watcher in self._eager_watchers:
                watcher()

    def watch_eager(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher()`` whenever ``eager`` changes."""
        self._eager_watchers.append(watcher)

    def enter_eager(self) -> None:
        with self._lock:
            self.eager_depth += 1
            self._update()

    def exit_eager(self) -> None:
        with self._lock:
            self.eager_depth -= 1
            self._update()

    def set_eager_setting(self, value: bool) -> None:
        with self._lock:
            self.eager_setting = value
            self._update()

    def add_capture_sink(self, sink: CaptureSink) -> None:
        with self._lock:
            self.capture_sinks = (*self.capture_sinks, sink)
            self._update()

    def remove_capture_sink(self, sink: CaptureSink) -> None:
        with self._lock:
            self.capture_sinks = tuple(s for s in self.capture_sinks if s is not sink)
            self._update()

    def note_inline_mark(self) -> None:
        with self._lock:
            self.inline_marks = True
            self._update()

    def record(self, signal: Any, sender: Any, kwargs: dict[str, Any]) -> None:
        for sink in self.capture_sinks:
            sink(signal, sender, kwargs)


modes = SendModes()


def keep_inline(func: F) -> F:
    """
    Run this receiver in the caller, before ``send()`` returns, even on an
    AsyncSignal or a patched signal (cache invalidation that must be done
    before the response). Its future is already complete when ``send()``
    returns; its exception is logged and stored, never raised.
    """
    check_callable(func, "keep_inline")
    setattr(getattr(func, "__func__", func), INLINE_MARK, True)
    # Until a receiver is marked, sends skip the per-receiver lookups.
    modes.note_inline_mark()
    return func


def is_inline(receiver: Any) -> bool:
    return getattr(receiver, INLINE_MARK, False)


def is_marked_background(receiver: Any) -> bool:
    return getattr(receiver, BACKGROUND_MARK, False)


def check_callable(func: Any, name: str) -> None:
    if not callable(func):
        raise TypeError(f"{name}() must decorate a callable receiver, not {type(func).__name__}.")


def apply_eager_setting(setting: str = "") -> None:
    """Make EVENTX_EAGER take effect (at start-up, and when it changes)."""
    modes.set_eager_setting(EAGER.raw() is True)


changes.on_change(apply_eager_setting, EAGER.name)
