"""Imported at start-up by EVENTX_AUTODISCOVER (in worker processes too)."""

import os
import sys
import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from eventx_signals import current_attempt, event_listener, get_event, retry

from .models import Receipt, Shipment
from .signals import misbehaving_celery, misbehaving_tasks, order_paid_celery, order_paid_tasks


@event_listener("order_placed")
def notify_admin(order):
    return f"admin notified of {order}"


@receiver(order_paid_tasks)
@receiver(order_paid_celery)
@retry(max_attempts=3, backoff=0.2, retry_on=[ConnectionError])
def write_receipt(sender, order, fail_first=0, pause=0.0, **kwargs):
    """Write what the worker saw; fail the first ``fail_first`` attempts."""
    if pause:
        time.sleep(pause)
    if current_attempt() <= fail_first:
        raise ConnectionError(f"payment service away (attempt {current_attempt()})")
    Receipt.objects.create(
        number=order.number,
        total=order.total,
        attempt=current_attempt(),
        pid=os.getpid(),
        backend=kwargs["signal"].backend,
    )
    return order.number


@receiver(misbehaving_tasks)
@receiver(misbehaving_celery)
def misbehave(sender, how, **kwargs):
    """Note the run, then end it the way ``how`` says."""
    Receipt.objects.create(number=f"bad:{how}", attempt=current_attempt(), pid=os.getpid())
    if how == "exit":
        sys.exit(3)
    if how == "nul-error":
        raise ValueError("a file name with a \x00 in it")
    if how == "nan":
        return float("nan")
    if how == "nul-result":
        return "a\x00b"
    return how


@receiver(post_save, sender=Shipment)
def record_shipment(sender, instance, created, **kwargs):
    """A post_save receiver; made async (django_tasks backend) in the tests
    that patch post_save, inline elsewhere."""
    Receipt.objects.create(
        number=f"{instance.status}:{instance.details.get('carrier', '')}:{created}",
        total=instance.weight,
        pid=os.getpid(),
    )


@receiver(post_delete, sender=Shipment)
def record_shipment_deletion(sender, instance, origin=None, **kwargs):
    """A post_delete receiver, made async (django_tasks backend) by the test
    of queryset deletes: notes what the origin of the delete came as."""
    kind = getattr(origin, "type_name", type(origin).__qualname__).rsplit(".", 1)[-1]
    Receipt.objects.create(number=f"del:{kind}", pid=os.getpid())


if os.environ.get("EVENTX_TEST_WORKER_RELEASE") != "previous":
    # Added in "this release": a worker process started with
    # EVENTX_TEST_WORKER_RELEASE=previous runs the code from before it, and
    # refuses the event's payloads.
    get_event("order_refunded").backend = "tasks"

    @event_listener("order_refunded")
    def record_refund(order):
        Receipt.objects.create(
            number=f"refund:{order.number}", total=order.total, pid=os.getpid(), backend="tasks"
        )
