"""
The one registry of the signals django-eventx knows: every ``AsyncSignal``,
every patched signal (with its patch) and every named event. The checks,
``manage.py eventx list`` and the worker side of the out-of-process backends
(which runs only receivers of signals it knows) all read it here.

Signals are held weakly, but named events, which live as long as the
process, strongly.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal

from .labels import signal_label


@dataclass(frozen=True)
class KnownSignal:
    signal: Signal
    #: "AsyncSignal", "patched signal" or "event".
    kind: str
    #: Its dotted path, or the event's name.
    name: str
    #: The patch of a patched signal (None otherwise).
    patch: Any = None


class Registry:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.async_signals: weakref.WeakSet[Signal] = weakref.WeakSet()
        self.patches: weakref.WeakKeyDictionary[Signal, Any] = weakref.WeakKeyDictionary()
        #: Event name -> its AsyncSignal.
        self.events: dict[str, Signal] = {}
        #: Event name -> the dotted paths of the listeners registered with
        #: @event_listener.
        self.listener_paths: dict[str, list[str]] = {}
        # Signals by dotted path, for the worker side; rebuilt on a miss.
        self._by_path: weakref.WeakValueDictionary[str, Signal] = weakref.WeakValueDictionary()

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def add_async_signal(self, signal: Signal) -> None:
        self.async_signals.add(signal)

    def event(self, name: str) -> Signal | None:
        """The AsyncSignal of the event ``name``, if there is one."""
        return self.events.get(name)

    def patched(self) -> list[Signal]:
        with self._lock:
            return list(self.patches.keys())

    def known(self) -> Iterator[KnownSignal]:
        """Every signal known: AsyncSignals (but events), patched signals,
        events, each with its kind and name."""
        events = {id(signal): name for name, signal in self.events.items()}
        for signal in list(self.async_signals):
            if id(signal) not in events:
                yield KnownSignal(signal, "AsyncSignal", signal_label(signal))
        for signal in self.patched():
            patch = self.patches.get(signal)
            if patch is not None:
                yield KnownSignal(signal, "patched signal", signal_label(signal), patch)
        for name, signal in list(self.events.items()):
            yield KnownSignal(signal, "event", name)

    def by_path(self, path: str) -> Signal | None:
        """The AsyncSignal or patched signal whose dotted path is ``path``."""
        found = self._by_path.get(path)
        if found is None:
            self._by_path = weakref.WeakValueDictionary(
                {signal_label(known): known for known in [*self.async_signals, *self.patched()]}
            )
            found = self._by_path.get(path)
        return found


registry = Registry()
