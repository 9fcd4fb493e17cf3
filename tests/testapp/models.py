import uuid

from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20)
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    def __str__(self) -> str:
        return self.number


class Shipment(models.Model):
    """Fields of many kinds, for the payload codec's tests."""

    class Status(models.TextChoices):
        PACKED = "packed"
        SENT = "sent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PACKED)
    sent_at = models.DateTimeField(null=True)
    details = models.JSONField(default=dict)
    label = models.FileField(blank=True)
    weight = models.DecimalField(max_digits=6, decimal_places=3, default=0)


class Receipt(models.Model):
    """Written by receivers in worker processes: what they saw, and where."""

    number = models.CharField(max_length=20)
    total = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    attempt = models.PositiveIntegerField(default=1)
    pid = models.PositiveIntegerField(default=0)
    backend = models.CharField(max_length=20, blank=True)
