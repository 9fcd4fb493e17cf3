from django.apps import AppConfig


class RelappConfig(AppConfig):
    name = "relapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
