"""System checks for the EVENTX_ settings (ids eventx_signals.E0xx / W0xx)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import checks

from .backends.base import alias_errors, load_backend_class
from .conf import DEFAULT_BACKEND_ALIAS, conf
from .labels import signal_label
from .retries import policy_errors
from .suggestions import did_you_mean, model_labels

logger = logging.getLogger("eventx_signals")


@checks.register()
def check_backends(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """EVENTX_BACKENDS, and every alias an AsyncSignal or a patched signal names."""
    from .patching import get_patch, patched_signals
    from .signals import AsyncSignal, all_async_signals

    configured = conf.BACKENDS
    if not isinstance(configured, Mapping):
        return [
            checks.Error(
                "EVENTX_BACKENDS must be a dict of alias to {'BACKEND': ..., 'OPTIONS': {...}}, "
                f"not {type(configured).__name__}.",
                id="eventx_signals.E001",
            )
        ]
    errors: list[checks.CheckMessage] = []
    if DEFAULT_BACKEND_ALIAS not in configured:
        errors.append(
            checks.Error(
                "EVENTX_BACKENDS has no 'default' alias; add one (signals that name no "
                "backend use it).",
                id="eventx_signals.E002",
            )
        )
    for alias, params in configured.items():
        alias_messages = alias_errors(alias, params)
        errors += [checks.Error(message, id="eventx_signals.E003") for message in alias_messages]
        if not alias_messages:
            backend_class = load_backend_class(params["BACKEND"], alias)
            errors += [
                checks.Warning(message, id="eventx_signals.W003")
                for message in backend_class.alias_warnings(alias, params.get("OPTIONS", {}))
            ]
    named = {
        signal.backend: f"The AsyncSignal {signal_label(signal)}"
        for signal in list(all_async_signals)
        if isinstance(signal, AsyncSignal) and isinstance(signal.backend, str)
    }
    for signal in patched_signals():
        patch = get_patch(signal)
        if patch is not None and patch.backend is not None:
            named[patch.backend] = f"The patched signal {signal_label(signal)}"
    for alias, where in sorted(named.items()):
        if alias not in configured:
            suggestion = did_you_mean(alias, [str(known) for known in configured])
            errors.append(
                checks.Error(
                    f"{where} names the backend alias {alias!r}, which EVENTX_BACKENDS does "
                    f"not define{suggestion}; add it to EVENTX_BACKENDS or name a defined "
                    "alias.",
                    id="eventx_signals.E013",
                )
            )
    return errors


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if not isinstance(conf.ON_COMMIT, bool):
        errors.append(
            checks.Error(
                f"EVENTX_ON_COMMIT must be True or False, not {conf.ON_COMMIT!r}.",
                id="eventx_signals.E004",
            )
        )
    timeout = conf.SHUTDOWN_TIMEOUT
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout < 0
    ):
        errors.append(
            checks.Error(
                "EVENTX_SHUTDOWN_TIMEOUT must be a finite number of seconds >= 0, "
                f"not {timeout!r}.",
                id="eventx_signals.E005",
            )
        )
    if not isinstance(conf.EAGER, bool):
        errors.append(
            checks.Error(
                f"EVENTX_EAGER must be True or False, not {conf.EAGER!r}.",
                id="eventx_signals.E017",
            )
        )
    if not isinstance(conf.AUTODISCOVER, bool):
        errors.append(
            checks.Error(
                f"EVENTX_AUTODISCOVER must be True or False, not {conf.AUTODISCOVER!r}.",
                id="eventx_signals.E011",
            )
        )
    for name in ("EVENTX_RECORD_EVENTS", "EVENTX_RECORD_KWARGS"):
        value = getattr(settings, name, False)
        if not isinstance(value, bool):
            errors.append(
                checks.Error(
                    f"{name} must be True or False, not {value!r}.", id="eventx_signals.E015"
                )
            )
    retention = getattr(settings, "EVENTX_RECORD_RETENTION_DAYS", 14)
    if (
        isinstance(retention, bool)
        or not isinstance(retention, (int, float))
        or not math.isfinite(retention)
        or not retention > 0
    ):
        errors.append(
            checks.Error(
                "EVENTX_RECORD_RETENTION_DAYS must be a finite number of days > 0, "
                f"not {retention!r}.",
                id="eventx_signals.E016",
            )
        )
    retry_setting = getattr(settings, "EVENTX_RETRY", None)
    if retry_setting is not None:
        errors += [
            checks.Error(message, id="eventx_signals.E014")
            for message in policy_errors(retry_setting, "EVENTX_RETRY")
        ]
    return errors


@checks.register()
def check_async_signals_setting(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    from django.apps import apps
    from django.utils.module_loading import import_string

    from .patching import parse_async_signals, resolve_entry
    from .signals import AsyncSignal

    messages: list[checks.CheckMessage] = []
    for entry in parse_async_signals(conf.ASYNC_SIGNALS):
        signal, error, error_id = resolve_entry(entry)
        if error:
            messages.append(checks.Error(error, id=error_id))
            continue
        if signal is None:
            if isinstance(import_string(entry.path), AsyncSignal):
                messages.append(
                    checks.Warning(
                        f"EVENTX_ASYNC_SIGNALS names {entry.path!r}, which is already an "
                        "AsyncSignal; remove the entry.",
                        id="eventx_signals.W002",
                    )
                )
            continue
        if entry.path.rsplit(".", 1)[-1].startswith("pre_"):
            messages.append(
                checks.Warning(
                    f"EVENTX_ASYNC_SIGNALS names {entry.path!r}: in the background, its "
                    "receivers can no longer change the instance before the operation "
                    "or veto it; keep such receivers inline with @keep_inline.",
                    id="eventx_signals.W001",
                )
            )
        for label in entry.senders or []:
            try:
                apps.get_model(label)
            except (LookupError, ValueError):
                suggestion = did_you_mean(label, model_labels())
                messages.append(
                    checks.Error(
                        f"EVENTX_ASYNC_SIGNALS[{entry.path!r}] names the model {label!r}, "
                        f"which is not installed{suggestion}; use an 'app_label.ModelName' "
                        "label.",
                        id="eventx_signals.E010",
                    )
                )
    return messages


@checks.register()
def check_receivers_workers_can_find(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Receivers routed to an out-of-process backend that a worker process
    could not find by their dotted path: they will run in the sender's
    process instead."""
    from .inventory import collect

    return [
        checks.Warning(
            f"The receiver {receiver.path} of {info.name} {receiver.fallback}, so a worker "
            f"process of the backend {receiver.backend!r} could not find it, and it runs in "
            f"the sending process, on a thread, instead; connect a module-level function "
            f"(or a static or class method) to run it on {receiver.backend!r}.",
            id="eventx_signals.W004",
        )
        for info in collect()
        for receiver in info.receivers
        if receiver.fallback
    ]


def log_configuration_errors() -> int:
    """
    Log each error the checks above find, once, at ERROR: servers (gunicorn,
    uWSGI) and scripts never run system checks, and a bad entry must not be
    skipped in silence there. Return how many were logged.
    """
    try:
        found = check_backends() + check_settings() + check_async_signals_setting()
    except Exception:  # a fault of the checks themselves must not stop start-up
        logger.exception("django-eventx could not check its settings at start-up.")
        return 0
    errors = [message for message in found if message.level >= checks.ERROR]
    for message in errors:
        logger.error(
            "django-eventx setting error (%s): %s The valid settings still apply.",
            message.id,
            message.msg,
        )
    return len(errors)
