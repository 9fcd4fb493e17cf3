from __future__ import annotations

from collections.abc import Mapping

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules

from . import checks
from .backends.handler import load_backend_class
from .config import installation
from .config.settings import ASYNC_SIGNALS, AUTODISCOVER, BACKENDS
from .core.sigterm import exit_normally_on_sigterm
from .dispatch.modes import apply_eager_setting
from .dispatch.patching import apply_async_signals
from .engine import steps
from .exceptions import EventxConfigurationError


class EventxSignalsConfig(AppConfig):
    name = "eventx_signals"
    verbose_name = "django-eventx"
    # The app's own, whatever the project's DEFAULT_AUTO_FIELD: migrations
    # ship with the package, and a project must never have to add one.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        installation.app_ready = True
        apply_eager_setting()
        steps.refresh()
        apply_async_signals(ASYNC_SIGNALS.raw())
        _import_backend_classes(BACKENDS.raw())
        # Here, in the main thread: a first send from a request thread could
        # not install the handler that makes SIGTERM drain the queue.
        exit_normally_on_sigterm()
        if AUTODISCOVER.raw() is True:
            autodiscover_modules("listeners")
        # Last, so that the signals of listeners modules are checked too.
        checks.log_configuration_errors()


def _import_backend_classes(configured: object) -> None:
    """Import the configured backend classes now rather than in the first
    send, which should not pay for it, and let each prepare this process
    (a Celery worker must know the task before its first message); bad
    values are left to the checks."""
    if not isinstance(configured, Mapping):
        return
    for alias, params in configured.items():
        if isinstance(params, Mapping):
            try:
                load_backend_class(params.get("BACKEND"), str(alias)).app_ready()
            except EventxConfigurationError:
                pass
