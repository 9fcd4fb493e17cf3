from django.apps import AppConfig


class EventxSignalsConfig(AppConfig):
    name = "eventx_signals"
    verbose_name = "django-eventx"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import checks  # noqa: F401  (registers the system checks)
        from .async_signals_setting import apply_async_signals
        from .conf import conf

        apply_async_signals(conf.ASYNC_SIGNALS)
        _import_backend(conf.BACKEND)
        if conf.AUTODISCOVER is True:
            autodiscover_modules("listeners")


def _import_backend(name: object) -> None:
    """Import the configured backend now rather than in the first send,
    which should not pay for it; a bad name is left to the system checks."""
    from .backends import load_backend_class
    from .exceptions import EventxConfigurationError

    try:
        load_backend_class(name)
    except EventxConfigurationError:
        pass
