from django.conf import settings
from django.db import models


class Order(models.Model):
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders"
    )
    item = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Order #{self.pk}: {self.quantity} x {self.item}"


class AuditEntry(models.Model):
    """Written by shop.receivers.write_audit_entry, a post_save receiver."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="audit_entries")
    action = models.CharField(max_length=20)
    # Which thread ran the receiver: the request's, or a django-eventx worker.
    thread = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"order #{self.order_id} {self.action} (thread {self.thread})"
