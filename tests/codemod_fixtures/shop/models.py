from django.db import models
from django.db.models.signals import post_init, pre_save


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)


class Order(models.Model):
    status = models.CharField(max_length=20, default="new")
    products = models.ManyToManyField(Product, through="OrderLine")


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)


def normalise_sku(sender, instance, **kwargs):
    instance.sku = instance.sku.strip().upper()


def remember_status(sender, instance, **kwargs):
    instance._original_status = instance.status


pre_save.connect(normalise_sku, sender=Product)
post_init.connect(remember_status, sender=Order)
