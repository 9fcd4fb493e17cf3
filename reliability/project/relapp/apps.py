import os

from django.apps import AppConfig


class RelappConfig(AppConfig):
    name = "relapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
        if os.environ.get("REL_OTEL_SPAN_DIR") or os.environ.get("REL_METRICS_PORT"):
            from . import telemetry

            telemetry.configure_from_env()
