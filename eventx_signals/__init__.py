"""
django-eventx: Django signals whose receivers run in the background.

Importing this package touches no settings, models or threads.
"""

from django.dispatch import receiver

from .events import (
    atrigger_event,
    event_listener,
    get_event,
    list_registered_events,
    trigger_event,
)
from .modes import keep_inline
from .patching import background_receiver, patch_signal, patched_signal, unpatch_signal
from .retries import current_attempt, retry
from .signals import AsyncSignal
from .stats import stats

__version__ = "0.1.0"

__all__ = [
    "AsyncSignal",
    "atrigger_event",
    "background_receiver",
    "current_attempt",
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
