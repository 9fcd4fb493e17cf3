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

_lock = threading.Lock()
_captures: list[list[CapturedEvent]] = []


@dataclass(frozen=True)
class CapturedEvent:
    """One dispatch seen by ``capture_events()``."""

    signal: Any
    name: str
    sender: Any
    kwargs: dict[str, Any] = field(default_factory=dict)


def enter_eager() -> None:
    global eager_depth
    with _lock:
        eager_depth += 1


def exit_eager() -> None:
    global eager_depth
    with _lock:
        eager_depth -= 1


def start_capture() -> list[CapturedEvent]:
    global capturing
    events: list[CapturedEvent] = []
    with _lock:
        _captures.append(events)
        capturing = True
    return events


def stop_capture(events: list[CapturedEvent]) -> None:
    global capturing
    with _lock:
        _captures.remove(events)
        capturing = bool(_captures)


def record(signal: Any, sender: Any, kwargs: dict[str, Any]) -> None:
    event = CapturedEvent(signal, signal_label(signal), sender, dict(kwargs))
    with _lock:
        for events in _captures:
            events.append(event)
