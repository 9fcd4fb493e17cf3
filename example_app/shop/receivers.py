"""Signal receivers of the shop, connected in ShopConfig.ready().

Nothing here knows about django-eventx except @keep_inline: where each
receiver runs comes from the signal (an AsyncSignal) or from the settings
(EVENTX_ASYNC_SIGNALS patches Django's post_save for shop.Order).
"""

import json
import logging
import threading
import urllib.request

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db.models.signals import post_save
from django.dispatch import receiver

from eventx_signals import keep_inline

from .models import AuditEntry, Order
from .signals import order_placed

logger = logging.getLogger(__name__)

ORDER_LIST_CACHE_KEY = "shop:order-list"

# The warehouse API is on the internal network: never go through an HTTP proxy
# configured in the environment.
_warehouse_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- post_save of Order: a plain Django receiver. ------------------------------
# It runs in the background only because settings.EVENTX_ASYNC_SIGNALS lists
# "django.db.models.signals.post_save" for "shop.Order".


@receiver(post_save, sender=Order)
def write_audit_entry(sender, instance, created, **kwargs):
    AuditEntry.objects.create(
        order_id=instance.pk,
        action="created" if created else "updated",
        thread=threading.current_thread().name,
    )


# --- post_save of Order, kept inline. -------------------------------------------
# The order list page is cached; a customer redirected to it right after
# ordering must see the new order, so the cache is cleared before the
# response goes out: @keep_inline makes this receiver run in the request even
# though post_save of Order is async.


@receiver(post_save, sender=Order)
@keep_inline
def invalidate_order_list_cache(sender, **kwargs):
    cache.delete(ORDER_LIST_CACHE_KEY)


# --- order_placed: an AsyncSignal, receivers doing slow I/O. ------------------


@receiver(order_placed)
def notify_warehouse(sender, order, **kwargs):
    """POST the order to the warehouse API (an HTTP call of ~200 ms)."""
    payload = {
        "order": order.pk,
        "customer": order.customer.username,
        "item": order.item,
        "quantity": order.quantity,
    }
    request = urllib.request.Request(
        settings.WAREHOUSE_API_URL,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with _warehouse_opener.open(request, timeout=settings.WAREHOUSE_API_TIMEOUT) as response:
        shipment = json.load(response)
    logger.info("Warehouse accepted order #%s: shipment %s.", order.pk, shipment.get("shipment"))
    return shipment


@receiver(order_placed)
def send_order_confirmation(sender, order, **kwargs):
    """E-mail the customer (an SMTP round trip)."""
    send_mail(
        subject=f"Order #{order.pk} confirmed: {order.quantity} x {order.item}",
        message=(
            f"Hello {order.customer.username},\n\n"
            f"we received your order #{order.pk} for {order.quantity} x {order.item}.\n"
        ),
        from_email=None,
        recipient_list=[order.customer.email],
    )
