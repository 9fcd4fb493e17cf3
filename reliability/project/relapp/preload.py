from django.conf import settings
from django.db.models.signals import post_save

from .models import Request


def send_before_fork(count: int) -> None:
    """post_save of unsaved Requests named master-slow-NNNN (their receiver
    waits at the gate, then sleeps REL_RECEIVER_SLOW_SLEEP), sent in the
    gunicorn master: they must run once, in the master, never in a child."""
    for n in range(count):
        post_save.send(
            sender=Request,
            instance=Request(rid=f"master-slow-{n:04d}"),
            created=True,
            update_fields=None,
            raw=False,
            using="default",
        )


def wait_at_gate() -> None:
    """Return once the test has opened REL_PRELOAD_GATE, a FIFO, for writing
    (opening a FIFO for reading blocks until then): so no run of the master
    can be done before the test has seen both workers answer, however slow
    the machine."""
    if settings.REL_PRELOAD_GATE:
        with open(settings.REL_PRELOAD_GATE, "rb"):
            pass
