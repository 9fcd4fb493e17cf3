"""
The post_save receiver, written as an application would write it. It is the
same function in "inline" and "async" mode: only the settings differ.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Order, Receipt

# Stands in for sending an e-mail: time spent waiting, not computing.
EMAIL_SECONDS = 0.020


@receiver(post_save, sender=Order, dispatch_uid="shop.write_receipt")
def write_receipt(sender: type[Order], instance: Order, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    time.sleep(EMAIL_SECONDS)
    # Read the row back, as a receiver that needs fresh data does; in async
    # mode this is where a worker thread opens its own database connection.
    order = Order.objects.get(pk=instance.pk)
    Receipt.objects.create(order=order, text=f"Receipt for order {order.number}: {order.total}")
