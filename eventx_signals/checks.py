"""System checks for the EVENTX_ settings (ids eventx_signals.E0xx)."""

from __future__ import annotations

from typing import Any

from django.core import checks

from .backends import load_backend_class
from .conf import conf
from .exceptions import EventxConfigurationError


@checks.register()
def check_backend_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    try:
        backend_class = load_backend_class(conf.BACKEND)
    except EventxConfigurationError as exc:
        errors.append(checks.Error(str(exc), id="eventx_signals.E001"))
        backend_class = None
    options = conf.BACKEND_OPTIONS
    if not isinstance(options, dict):
        errors.append(
            checks.Error(
                "EVENTX_BACKEND_OPTIONS must be a dict of option names to values, "
                f"not {type(options).__name__}.",
                id="eventx_signals.E002",
            )
        )
    elif backend_class is not None:
        for message in backend_class.option_errors(options):
            errors.append(
                checks.Error(f"EVENTX_BACKEND_OPTIONS: {message}", id="eventx_signals.E003")
            )
    if not isinstance(conf.ON_COMMIT, bool):
        errors.append(
            checks.Error(
                f"EVENTX_ON_COMMIT must be True or False, not {conf.ON_COMMIT!r}.",
                id="eventx_signals.E004",
            )
        )
    timeout = conf.SHUTDOWN_TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        errors.append(
            checks.Error(
                f"EVENTX_SHUTDOWN_TIMEOUT must be a number of seconds >= 0, not {timeout!r}.",
                id="eventx_signals.E005",
            )
        )
    return errors


@checks.register()
def check_async_signals_setting(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    from django.apps import apps
    from django.dispatch import Signal
    from django.utils.module_loading import import_string

    from .async_signals_setting import (
        MUST_STAY_SYNCHRONOUS,
        canonical_path,
        parse_async_signals,
    )
    from .signals import AsyncSignal

    messages: list[checks.CheckMessage] = []
    if not isinstance(conf.AUTODISCOVER, bool):
        messages.append(
            checks.Error(
                f"EVENTX_AUTODISCOVER must be True or False, not {conf.AUTODISCOVER!r}.",
                id="eventx_signals.E011",
            )
        )
    try:
        entries = parse_async_signals(conf.ASYNC_SIGNALS)
    except TypeError as exc:
        return messages + [checks.Error(str(exc), id="eventx_signals.E006")]
    for path, labels in entries:
        if not isinstance(path, str):
            messages.append(
                checks.Error(
                    f"EVENTX_ASYNC_SIGNALS entries must be dotted paths (str), not {path!r}.",
                    id="eventx_signals.E007",
                )
            )
            continue
        try:
            signal = import_string(path)
        except ImportError:
            messages.append(
                checks.Error(
                    f"EVENTX_ASYNC_SIGNALS names {path!r}, which cannot be imported; "
                    "fix the dotted path (module.attribute) or remove the entry.",
                    id="eventx_signals.E007",
                )
            )
            continue
        if not isinstance(signal, Signal):
            messages.append(
                checks.Error(
                    f"EVENTX_ASYNC_SIGNALS names {path!r}, which is a "
                    f"{type(signal).__name__}, not a django.dispatch.Signal; remove the entry.",
                    id="eventx_signals.E008",
                )
            )
            continue
        if isinstance(signal, AsyncSignal):
            messages.append(
                checks.Warning(
                    f"EVENTX_ASYNC_SIGNALS names {path!r}, which is already an "
                    "AsyncSignal; remove the entry.",
                    id="eventx_signals.W002",
                )
            )
            continue
        sync_path = canonical_path(signal)
        if sync_path is not None:
            messages.append(
                checks.Error(
                    f"EVENTX_ASYNC_SIGNALS names {path!r}, which must stay synchronous "
                    f"because {MUST_STAY_SYNCHRONOUS[sync_path]}; remove the entry.",
                    id="eventx_signals.E009",
                )
            )
            continue
        if path.rsplit(".", 1)[-1].startswith("pre_"):
            messages.append(
                checks.Warning(
                    f"EVENTX_ASYNC_SIGNALS names {path!r}: in the background, its "
                    "receivers can no longer change the instance before the operation "
                    "or veto it; keep such receivers inline with @keep_inline.",
                    id="eventx_signals.W001",
                )
            )
        for label in labels or []:
            try:
                apps.get_model(label)
            except (LookupError, ValueError, TypeError):
                messages.append(
                    checks.Error(
                        f"EVENTX_ASYNC_SIGNALS[{path!r}] names the model {label!r}, "
                        "which is not installed; use an 'app_label.ModelName' label.",
                        id="eventx_signals.E010",
                    )
                )
    return messages
