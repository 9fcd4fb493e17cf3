"""Process-wide switches the testing helpers turn on: eager mode, capturing."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .labels import signal_label

# How many eager() blocks are active; while > 0 receivers run inline at once.
eager_depth = 0
# Whether any capture_events() block is active.
capturing = False
# Whether any receiver was ever marked keep_inline.
inline_marks = False
# Whether a send must take the general path (any of the above); one flag so
# that the common path pays a single lookup.
special = False

_lock = threading.Lock()
_captures: list[list[CapturedEvent]] = []


@dataclass(frozen=True)
class CapturedEvent:
    """One dispatch seen by ``capture_events()``."""

    signal: Any
    name: str
    sender: Any
    kwargs: dict[str, Any] = field(default_factory=dict)


def _update_special() -> None:
    global special
    special = bool(eager_depth or capturing or inline_marks)


def enter_eager() -> None:
    global eager_depth
    with _lock:
        eager_depth += 1
        _update_special()


def exit_eager() -> None:
    global eager_depth
    with _lock:
        eager_depth -= 1
        _update_special()


def note_inline_mark() -> None:
    global inline_marks
    with _lock:
        inline_marks = True
        _update_special()


def start_capture() -> list[CapturedEvent]:
    global capturing
    events: list[CapturedEvent] = []
    with _lock:
        _captures.append(events)
        capturing = True
        _update_special()
    return events


def stop_capture(events: list[CapturedEvent]) -> None:
    global capturing
    with _lock:
        _captures.remove(events)
        capturing = bool(_captures)
        _update_special()


def record(signal: Any, sender: Any, kwargs: dict[str, Any]) -> None:
    event = CapturedEvent(signal, signal_label(signal), sender, dict(kwargs))
    with _lock:
        for events in _captures:
            events.append(event)
