"""EVENTX_ASYNC_SIGNALS: which existing signals to patch at start-up."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal
from django.utils.module_loading import import_string

#: Signals whose receivers must run inside the sending code: what they do
#: (set up a model class or instance, migrate, manage connections, reload)
#: is needed before the sender goes on. Patching them is an error.
MUST_STAY_SYNCHRONOUS = {
    "django.db.models.signals.class_prepared": "it runs while model classes are built",
    "django.db.models.signals.pre_init": "its receivers set up the instance being built",
    "django.db.models.signals.post_init": "its receivers set up the instance being built",
    "django.db.models.signals.pre_migrate": "migrate relies on its receivers having run",
    "django.db.models.signals.post_migrate": "migrate relies on its receivers (permissions, content types) having run",
    "django.db.backends.signals.connection_created": "its receivers configure the new connection before it is used",
    "django.core.signals.request_started": "its receivers prepare the request's own thread",
    "django.core.signals.request_finished": "its receivers close the request thread's connections and caches",
    "django.core.signals.setting_changed": "its receivers reset caches before the changed setting is read",
    "django.utils.autoreload.file_changed": "its receivers decide whether the autoreloader restarts",
}


def parse_async_signals(value: Any) -> list[tuple[str, list[str] | None]]:
    """
    Return ``[(dotted path, model labels or None), ...]`` from the setting's
    list or dict form. Raise TypeError if it is neither.
    """
    if isinstance(value, dict):
        entries = []
        for path, labels in value.items():
            if isinstance(labels, str):
                labels = [labels]
            entries.append((path, None if labels is None else list(labels)))
        return entries
    if isinstance(value, (list, tuple)):
        return [(path, None) for path in value]
    raise TypeError(
        "EVENTX_ASYNC_SIGNALS must be a list of dotted signal paths or a dict of "
        f"dotted signal path to model labels, not {type(value).__name__}."
    )


def canonical_path(signal: Signal) -> str | None:
    """The MUST_STAY_SYNCHRONOUS key naming ``signal``, if any."""
    for path in MUST_STAY_SYNCHRONOUS:
        try:
            if import_string(path) is signal:
                return path
        except ImportError:
            continue
    return None


def apply_async_signals(value: Any) -> list[Signal]:
    """
    Patch every valid entry of EVENTX_ASYNC_SIGNALS and return the signals
    patched. Invalid entries are skipped: the system checks report them
    with the fix, instead of start-up crashing on an ImportError.
    """
    from .patching import patch_signal
    from .signals import AsyncSignal

    try:
        entries = parse_async_signals(value)
    except TypeError:
        return []
    patched = []
    for path, labels in entries:
        try:
            signal = import_string(path)
        except ImportError:
            continue
        if (
            not isinstance(signal, Signal)
            or isinstance(signal, AsyncSignal)
            or canonical_path(signal) is not None
        ):
            continue
        patch_signal(signal, senders=labels)
        patched.append(signal)
    return patched
