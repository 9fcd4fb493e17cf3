from django.apps import AppConfig


class EventxSignalsConfig(AppConfig):
    name = "eventx_signals"
    verbose_name = "django-eventx"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
