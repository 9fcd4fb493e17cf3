"""
``EVENTX_ASYNC_SIGNALS``, parsed: the existing signals to make async at
start-up, each with its senders and backend alias, and what makes an entry
unusable. A bad entry never stops the valid ones: it carries its error and
check id, which the checks and the start-up log report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal
from django.utils.module_loading import import_string

from .suggestions import did_you_mean, signal_paths_near

#: Signals whose receivers must run inside the sending code: what they do
#: (set up a model class or instance, migrate, manage connections, reload)
#: is needed before the sender goes on. Patching them is an error.
MUST_STAY_SYNCHRONOUS = {
    "django.db.models.signals.class_prepared": "it runs while model classes are built",
    "django.db.models.signals.pre_init": "its receivers set up the instance being built",
    "django.db.models.signals.post_init": "its receivers set up the instance being built",
    "django.db.models.signals.pre_migrate": "migrate relies on its receivers having run",
    "django.db.models.signals.post_migrate": (
        "migrate relies on its receivers (permissions, content types) having run"
    ),
    "django.db.backends.signals.connection_created": (
        "its receivers configure the new connection before it is used"
    ),
    "django.core.signals.request_started": "its receivers prepare the request's own thread",
    "django.core.signals.request_finished": (
        "its receivers close the request thread's connections and caches"
    ),
    "django.core.signals.setting_changed": (
        "its receivers reset caches before the changed setting is read"
    ),
    "django.utils.autoreload.file_changed": (
        "its receivers decide whether the autoreloader restarts"
    ),
}


@dataclass(frozen=True)
class AsyncSignalEntry:
    """One entry of EVENTX_ASYNC_SIGNALS, parsed; ``error`` says why it is
    unusable (then it is skipped, and the checks report it)."""

    path: Any
    senders: list[str] | None = None
    backend: str | None = None
    error: str | None = None
    error_id: str = ""


def parse_async_signals(value: Any) -> list[AsyncSignalEntry]:
    """
    Parse EVENTX_ASYNC_SIGNALS: a list of dotted signal paths, or a dict of
    dotted path to a list of model labels, or to ``{"senders": [...],
    "backend": "alias"}``. A bad entry is returned with its error and never
    stops the valid ones.
    """
    if isinstance(value, dict):
        return [_parse_dict_entry(path, spec) for path, spec in value.items()]
    if isinstance(value, (list, tuple)):
        return [_parse_path(path) for path in value]
    return [
        AsyncSignalEntry(
            path=None,
            error="EVENTX_ASYNC_SIGNALS must be a list of dotted signal paths or a dict "
            f"of dotted signal path to model labels, not {type(value).__name__}.",
            error_id="eventx_signals.E006",
        )
    ]


def _parse_path(path: Any) -> AsyncSignalEntry:
    if not isinstance(path, str):
        return AsyncSignalEntry(
            path=path,
            error=f"EVENTX_ASYNC_SIGNALS entries must be dotted paths (str), not {path!r}; "
            "write the signal's import path, e.g. 'django.db.models.signals.post_save'.",
            error_id="eventx_signals.E007",
        )
    return AsyncSignalEntry(path=path)


def _parse_dict_entry(path: Any, spec: Any) -> AsyncSignalEntry:
    entry = _parse_path(path)
    if entry.error:
        return entry
    backend = None
    senders: Any = spec
    if isinstance(spec, dict):
        unknown = set(spec) - {"senders", "backend"}
        if unknown:
            return AsyncSignalEntry(
                path=path,
                error=f"EVENTX_ASYNC_SIGNALS[{path!r}] has unknown keys "
                f"{', '.join(map(repr, sorted(unknown)))}; use 'senders' and 'backend'.",
                error_id="eventx_signals.E012",
            )
        senders = spec.get("senders")
        backend = spec.get("backend")
        if backend is not None and not (isinstance(backend, str) and backend):
            return AsyncSignalEntry(
                path=path,
                error=f"EVENTX_ASYNC_SIGNALS[{path!r}]['backend'] must be an alias of "
                f"EVENTX_BACKENDS, not {backend!r}.",
                error_id="eventx_signals.E012",
            )
    if isinstance(senders, str):
        senders = [senders]
    if senders is not None and not (
        isinstance(senders, (list, tuple)) and all(isinstance(s, str) for s in senders)
    ):
        return AsyncSignalEntry(
            path=path,
            error=f"EVENTX_ASYNC_SIGNALS[{path!r}] must be a list of 'app_label.Model' "
            f"labels (or None for every sender), not {senders!r}.",
            error_id="eventx_signals.E010",
        )
    return AsyncSignalEntry(
        path=path, senders=None if senders is None else list(senders), backend=backend
    )


def resolve_entry(entry: AsyncSignalEntry) -> tuple[Signal | None, str, str]:
    """Return (signal or None, error message, check id) for a parsed entry.
    An entry naming an AsyncSignal resolves to it: what to do with one is
    for the caller to say (nothing to patch; a warning)."""
    if entry.error:
        return None, entry.error, entry.error_id
    path = entry.path
    try:
        signal = import_string(path)
    except ImportError:
        suggestion = did_you_mean(path, signal_paths_near(path))
        return (
            None,
            f"EVENTX_ASYNC_SIGNALS names {path!r}, which cannot be imported{suggestion}; "
            "fix the dotted path (module.attribute) or remove the entry.",
            "eventx_signals.E007",
        )
    if not isinstance(signal, Signal):
        return (
            None,
            f"EVENTX_ASYNC_SIGNALS names {path!r}, which is a {type(signal).__name__}, "
            "not a django.dispatch.Signal; remove the entry.",
            "eventx_signals.E008",
        )
    reason = must_stay_synchronous(signal)
    if reason:
        return (
            None,
            f"EVENTX_ASYNC_SIGNALS names {path!r}, which must stay synchronous because "
            f"{reason}; remove the entry.",
            "eventx_signals.E009",
        )
    return signal, "", ""


def must_stay_synchronous(signal: Signal) -> str | None:
    """Why ``signal`` must stay synchronous, if it must."""
    for path, reason in MUST_STAY_SYNCHRONOUS.items():
        try:
            if import_string(path) is signal:
                return reason
        except ImportError:
            continue
    return None
