"""
System checks of the ``EVENTX_*`` settings and of the signals the process
knows (ids ``eventx_signals.E0xx`` / ``W0xx``: ``config.check_ids``), and
the same errors logged at start-up, where servers and scripts run no checks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.core import checks

from .backends.handler import alias_errors, load_backend_class
from .config.async_signals import parse_async_signals, resolve_entry
from .config.settings import ASYNC_SIGNALS, BACKENDS, DEFAULT_BACKEND_ALIAS, RECORD_RUNS, VALIDATED
from .config.suggestions import did_you_mean, model_labels
from .core.registry import registry
from .dispatch.signals import AsyncSignal
from .inventory import collect

logger = logging.getLogger("eventx_signals")


@checks.register()
def check_backends(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """EVENTX_BACKENDS, and every alias an AsyncSignal or a patched signal names."""
    configured = BACKENDS.raw()
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
    named = {}
    for known in registry.known():
        patch = known.patch
        alias = patch.backend if patch is not None else getattr(known.signal, "backend", None)
        if isinstance(alias, str):
            named[alias] = f"The {known.kind} {known.name}"
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
    """Each setting with a validator of its own (``config.settings``)."""
    messages: list[checks.CheckMessage] = [
        checks.Error(problem, id=setting.check_id)
        for setting in VALIDATED
        for problem in setting.problems()
    ]
    if RECORD_RUNS.is_set_under_old_name():
        messages.append(
            checks.Warning(
                f"{RECORD_RUNS.old_name} is deprecated: rename it to {RECORD_RUNS.name} "
                "(it still works for now).",
                id="eventx_signals.W005",
            )
        )
    return messages


@checks.register()
def check_async_signals_setting(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Each entry of EVENTX_ASYNC_SIGNALS."""
    messages: list[checks.CheckMessage] = []
    for entry in parse_async_signals(ASYNC_SIGNALS.raw()):
        signal, error, error_id = resolve_entry(entry)
        if error:
            messages.append(checks.Error(error, id=error_id))
            continue
        if isinstance(signal, AsyncSignal):
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
