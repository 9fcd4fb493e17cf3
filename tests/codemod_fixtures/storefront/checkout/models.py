from django.db import models

from .signals import order_placed


class Order(models.Model):
    total = models.DecimalField(max_digits=10, decimal_places=2)

    def place(self):
        self.save()
        order_placed.send(sender=self.__class__, order=self)
