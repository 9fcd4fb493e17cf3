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
                checks.Error(
                    f"EVENTX_BACKEND_OPTIONS: {message}", id="eventx_signals.E003"
                )
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
                "EVENTX_SHUTDOWN_TIMEOUT must be a number of seconds >= 0, "
                f"not {timeout!r}.",
                id="eventx_signals.E005",
            )
        )
    return errors
