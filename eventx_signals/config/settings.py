"""
Every ``EVENTX_*`` setting, once: its name, default, validator and system
check id. Each is read anew on every access (``override_settings`` works);
``value()`` gives what the runtime uses (the default in place of a bad
value, which the checks and the start-up log report), ``problems()`` what
the checks report.
"""

from __future__ import annotations

import warnings
from typing import Any, Generic, TypeVar

from django.conf import settings

from . import changes, validators
from .retry_policy import policy_errors

T = TypeVar("T")

#: The alias used when a signal names none.
DEFAULT_BACKEND_ALIAS = "default"
#: The default of EVENTX_BACKENDS.
DEFAULT_BACKENDS = {"default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"}}

# Marks a setting that is not set.
_UNSET = object()


class Setting(Generic[T]):
    """One ``EVENTX_*`` setting."""

    def __init__(
        self,
        name: str,
        default: T,
        check_id: str = "",
        validate: validators.Validator | None = None,
        *,
        old_name: str = "",
    ) -> None:
        self.name = name
        self.default = default
        self.check_id = check_id
        self.validate = validate
        #: The name it had before (still read, with a DeprecationWarning).
        self.old_name = old_name

    def raw(self) -> Any:
        """The setting as the project set it, or the default."""
        value = getattr(settings, self.name, _UNSET)
        if value is _UNSET and self.old_name:
            value = getattr(settings, self.old_name, _UNSET)
            if value is not _UNSET:
                warnings.warn(
                    f"{self.old_name} is deprecated; rename it to {self.name}.",
                    DeprecationWarning,
                    stacklevel=3,
                )
        return self.default if value is _UNSET else value

    def problems(self) -> list[str]:
        """One sentence per problem of the value set (none: it is fine)."""
        if self.validate is None:
            return []
        return self.validate(self.raw(), self.name)

    def value(self) -> T:
        """The value set if it is valid, else the default."""
        value = self.raw()
        if self.validate is not None and self.validate(value, self.name):
            return self.default
        return value  # type: ignore[no-any-return]

    def is_set_under_old_name(self) -> bool:
        return (
            bool(self.old_name)
            and not hasattr(settings, self.name)
            and hasattr(settings, self.old_name)
        )


def _retry(value: Any, name: str) -> list[str]:
    return [] if value is None else policy_errors(value, name)


BACKENDS: Setting[Any] = Setting("EVENTX_BACKENDS", DEFAULT_BACKENDS)
ON_COMMIT: Setting[bool] = Setting(
    "EVENTX_ON_COMMIT", True, "eventx_signals.E004", validators.boolean
)
SHUTDOWN_TIMEOUT: Setting[float] = Setting(
    "EVENTX_SHUTDOWN_TIMEOUT", 10.0, "eventx_signals.E005", validators.seconds
)
ASYNC_SIGNALS: Setting[Any] = Setting("EVENTX_ASYNC_SIGNALS", [])
AUTODISCOVER: Setting[bool] = Setting(
    "EVENTX_AUTODISCOVER", True, "eventx_signals.E011", validators.boolean
)
EAGER: Setting[bool] = Setting("EVENTX_EAGER", False, "eventx_signals.E017", validators.boolean)
RETRY: Setting[Any] = Setting("EVENTX_RETRY", None, "eventx_signals.E014", _retry)
RECORD_RUNS: Setting[bool] = Setting(
    "EVENTX_RECORD_RUNS",
    False,
    "eventx_signals.E015",
    validators.boolean,
    old_name="EVENTX_RECORD_EVENTS",
)
RECORD_KWARGS: Setting[bool] = Setting(
    "EVENTX_RECORD_KWARGS", False, "eventx_signals.E015", validators.boolean
)
RECORD_RETENTION_DAYS: Setting[float] = Setting(
    "EVENTX_RECORD_RETENTION_DAYS", 14, "eventx_signals.E016", validators.days
)

#: The settings the checks validate one by one (the others are checked by
#: what uses them: backends, EVENTX_ASYNC_SIGNALS entries).
VALIDATED = (
    ON_COMMIT,
    SHUTDOWN_TIMEOUT,
    AUTODISCOVER,
    EAGER,
    RETRY,
    RECORD_RUNS,
    RECORD_KWARGS,
    RECORD_RETENTION_DAYS,
)

# -- values the send path reads on every send, remembered ------------------------

#: EVENTX_ON_COMMIT, looked up once (a missing Django setting costs an
#: exception on each access); None until then, and again after an EVENTX_
#: setting changes. The send path reads it directly.
on_commit_value: bool | None = None


def on_commit_default() -> bool:
    """EVENTX_ON_COMMIT, remembered until an EVENTX_ setting changes."""
    global on_commit_value
    value = on_commit_value
    if value is None:
        value = on_commit_value = ON_COMMIT.raw() is not False
    return value


def forget_remembered_values(setting: str) -> None:
    global on_commit_value
    on_commit_value = None


def shutdown_timeout() -> float:
    """EVENTX_SHUTDOWN_TIMEOUT as a finite number of seconds >= 0."""
    try:
        return float(SHUTDOWN_TIMEOUT.value())
    except Exception:  # unusable settings this late in the process: the default
        return float(SHUTDOWN_TIMEOUT.default)


changes.on_change(forget_remembered_values)
