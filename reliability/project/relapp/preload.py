from django.db.models.signals import post_save

from .models import Request


def send_before_fork(count: int) -> None:
    """post_save of unsaved Requests named master-slow-NNNN (their receiver
    sleeps REL_RECEIVER_SLOW_SLEEP), sent in the gunicorn master: they must run
    once, in the master, never in a child."""
    for n in range(count):
        post_save.send(
            sender=Request,
            instance=Request(rid=f"master-slow-{n:04d}"),
            created=True,
            update_fields=None,
            raw=False,
            using="default",
        )
