"""Checkout services: they look at what the receivers of the shop signals return."""
import logging

from .models import Order
from .signals import order_paid, order_shipped

logger = logging.getLogger(__name__)


def pay(order):
    responses = order_paid.send(sender=Order, order=order)
    for receiver, response in order_shipped.send(sender=Order, order=order):
        logger.info("%s answered %r", receiver, response)
    first = order_paid.send(Order, order=order)[0][1]
    logger.info("receipts: %s", order_paid.send_robust(sender=Order, order=order))
    order_paid.send(sender=Order, order=order)
    return first, responses


def receipts(order):
    return [response for _, response in order_paid.send(sender=Order, order=order)]


def ship(order):
    return order_shipped.send(sender=Order, order=order)


async def apay(order):
    results = await order_paid.asend(sender=Order, order=order)
    await order_shipped.asend_robust(sender=Order, order=order)
    return results


def email(message):
    sent = message.send()
    message.send()
    return sent
