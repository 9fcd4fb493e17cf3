"""Settings of django-eventx, read lazily so that override_settings works."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from .modes import modes

logger = logging.getLogger("eventx_signals")

#: The default of EVENTX_BACKENDS.
DEFAULT_BACKENDS = {"default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"}}
#: The alias used when a signal names none.
DEFAULT_BACKEND_ALIAS = "default"
DEFAULT_SHUTDOWN_TIMEOUT = 10.0


class EventxSettings:
    """Each property reads the Django setting anew on every access."""

    @property
    def BACKENDS(self) -> Any:
        return getattr(settings, "EVENTX_BACKENDS", DEFAULT_BACKENDS)

    @property
    def ON_COMMIT(self) -> Any:
        return getattr(settings, "EVENTX_ON_COMMIT", True)

    @property
    def SHUTDOWN_TIMEOUT(self) -> Any:
        return getattr(settings, "EVENTX_SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT)

    @property
    def ASYNC_SIGNALS(self) -> Any:
        return getattr(settings, "EVENTX_ASYNC_SIGNALS", [])

    @property
    def AUTODISCOVER(self) -> Any:
        return getattr(settings, "EVENTX_AUTODISCOVER", True)

    @property
    def EAGER(self) -> Any:
        return getattr(settings, "EVENTX_EAGER", False)


conf = EventxSettings()

#: EVENTX_ON_COMMIT, needed on every send, looked up once (a missing Django
#: setting costs an exception on each access); None until then, and again
#: after an EVENTX_ setting changes. The send path reads it directly.
on_commit_value: bool | None = None


def on_commit_default() -> bool:
    """EVENTX_ON_COMMIT, remembered until an EVENTX_ setting changes."""
    global on_commit_value
    value = on_commit_value
    if value is None:
        value = on_commit_value = conf.ON_COMMIT is not False
    return value


def shutdown_timeout() -> float:
    """EVENTX_SHUTDOWN_TIMEOUT as a finite number of seconds >= 0 (a bad
    value, which the checks report, counts as the default)."""
    try:
        value = float(conf.SHUTDOWN_TIMEOUT)
    except Exception:  # unusable settings this late in the process: the default
        return DEFAULT_SHUTDOWN_TIMEOUT
    if not math.isfinite(value) or value < 0:
        return DEFAULT_SHUTDOWN_TIMEOUT
    return value


def apply_eager_setting() -> None:
    """Make EVENTX_EAGER take effect (at start-up, and when it changes)."""
    modes.set_eager_setting(conf.EAGER is True)


def _reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    global on_commit_value
    if setting.startswith("EVENTX_"):
        on_commit_value = None
    if setting == "EVENTX_EAGER":
        apply_eager_setting()


# Connected here rather than in AppConfig.ready() so that the cache is also
# reset in projects that use AsyncSignal without installing the app.
setting_changed.connect(_reset_on_setting_change, dispatch_uid="eventx_signals.conf.reset")


# -- the app must be installed for the settings to take effect ----------------

#: Set by AppConfig.ready().
app_ready = False
_installation_checked = False


def warn_if_not_installed() -> None:
    """
    Once per process, on the first send: if EVENTX_ settings exist but the
    app is not installed, say what is silently skipped.
    """
    global _installation_checked
    if _installation_checked or app_ready:
        return
    _installation_checked = True
    try:
        names = sorted(name for name in dir(settings) if name.startswith("EVENTX_"))
    except Exception:  # settings not configured: nothing to warn about
        return
    if names:
        logger.warning(
            "%s set, but 'eventx_signals' is not in INSTALLED_APPS: EVENTX_ASYNC_SIGNALS "
            "is not applied, listeners modules are not imported and the system checks "
            "do not run. Add 'eventx_signals' to INSTALLED_APPS.",
            ", ".join(names),
        )
