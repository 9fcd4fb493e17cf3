from django.apps import AppConfig
from django.conf import settings


class ShopConfig(AppConfig):
    name = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # In "none" mode the receiver is not even imported, so post_save has
        # no listener for Order and Django takes its no-receiver fast path.
        if settings.HTTP_BENCH_MODE != "none":
            from . import receivers  # noqa: F401  (connects with @receiver)
