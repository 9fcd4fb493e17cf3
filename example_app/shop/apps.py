from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connect the signal receivers, as any Django app does. Named-event
        # listeners live in listeners.py, which django-eventx imports itself.
        from . import receivers  # noqa: F401
