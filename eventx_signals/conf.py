"""Settings of django-eventx, read lazily so that override_settings works."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

#: Names of the backends that ship with django-eventx.
BACKEND_ALIASES = {
    "thread": "eventx_signals.backends.thread.ThreadBackend",
    "immediate": "eventx_signals.backends.immediate.ImmediateBackend",
}


class EventxSettings:
    """Each property reads the Django setting anew on every access."""

    @property
    def BACKEND(self) -> Any:
        return getattr(settings, "EVENTX_BACKEND", "thread")

    @property
    def BACKEND_OPTIONS(self) -> Any:
        return getattr(settings, "EVENTX_BACKEND_OPTIONS", {})

    @property
    def ON_COMMIT(self) -> Any:
        return getattr(settings, "EVENTX_ON_COMMIT", True)

    @property
    def SHUTDOWN_TIMEOUT(self) -> Any:
        return getattr(settings, "EVENTX_SHUTDOWN_TIMEOUT", 10.0)

    @property
    def ASYNC_SIGNALS(self) -> Any:
        return getattr(settings, "EVENTX_ASYNC_SIGNALS", [])

    @property
    def AUTODISCOVER(self) -> Any:
        return getattr(settings, "EVENTX_AUTODISCOVER", True)


conf = EventxSettings()

# Values needed on every send, looked up once: a missing Django setting costs
# an exception on each access. Emptied whenever an EVENTX_ setting changes.
hot_settings: dict[str, Any] = {}


def cached(name: str) -> Any:
    """Return ``conf.<name>``, remembered until an EVENTX_ setting changes."""
    value = hot_settings.get(name, hot_settings)
    if value is hot_settings:
        value = hot_settings[name] = getattr(conf, name)
    return value


def _reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("EVENTX_"):
        hot_settings.clear()
    if setting in ("EVENTX_BACKEND", "EVENTX_BACKEND_OPTIONS"):
        # Only these change what a backend instance is; the old thread pool
        # finishes its queue and stops.
        from .backends import reset_backends

        reset_backends()


# Connected here rather than in AppConfig.ready() so that the cache is also
# reset in projects that use AsyncSignal without installing the app.
setting_changed.connect(_reset_on_setting_change, dispatch_uid="eventx_signals.conf.reset")
