"""
django-eventx: Django signals whose receivers run in the background.

Importing this package touches no settings, models or threads. The public
names are here; the layers of the package (``dispatch``, ``backends``,
``engine``, ``runlog``, ``core``, ``config``) are described in
CONTRIBUTING.rst.
"""

from django.dispatch import receiver

from .backends.out_of_process.codec import ArgumentDescription
from .core.counters import stats
from .dispatch.events import (
    atrigger_event,
    event_listener,
    get_event,
    list_registered_events,
    trigger_event,
)
from .dispatch.modes import keep_inline
from .dispatch.patching import background_receiver, patch_signal, patched_signal, unpatch_signal
from .dispatch.signals import AsyncSignal
from .engine.current import current_dispatch_id
from .engine.retries import current_attempt, retry

__version__ = "0.1.0"

__all__ = [
    "ArgumentDescription",
    "AsyncSignal",
    "atrigger_event",
    "background_receiver",
    "current_attempt",
    "current_dispatch_id",
    "event_listener",
    "get_event",
    "keep_inline",
    "list_registered_events",
    "patch_signal",
    "patched_signal",
    "receiver",
    "retry",
    "stats",
    "trigger_event",
    "unpatch_signal",
]
