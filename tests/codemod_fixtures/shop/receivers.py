from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from .models import Order, OrderLine, Product
from .signals import order_paid


@receiver(post_save, sender=Order)
def notify_warehouse(sender, instance, created, **kwargs):
    if created:
        print("new order", instance.pk)


@receiver([post_save, post_delete], sender=OrderLine)
def refresh_order_total(sender, instance, **kwargs):
    instance.order.save(update_fields=["status"])


@receiver(pre_delete, sender=Product)
def archive_product(sender, instance, **kwargs):
    print("archiving", instance.sku)


@receiver(order_paid)
def send_receipt(sender, order, **kwargs):
    return f"receipt for {order.pk}"

