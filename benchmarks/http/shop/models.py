from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=32)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    created = models.DateTimeField(auto_now_add=True)


class Receipt(models.Model):
    # A real foreign key, as an application would have; the benchmark still
    # counts receipts without an order, which the constraint should make 0.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="receipts")
    text = models.CharField(max_length=200)
