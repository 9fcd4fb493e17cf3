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
        if conf.AUTODISCOVER is True:
            autodiscover_modules("listeners")
