"""Imported at start-up by EVENTX_AUTODISCOVER."""

from eventx_signals import event_listener


@event_listener("order_placed")
def notify_admin(order):
    return f"admin notified of {order}"
