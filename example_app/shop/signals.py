from eventx_signals import AsyncSignal

# Sent by shop.views.orders once an order is saved: sender=Order, order=<Order>.
# An AsyncSignal: send() returns at once, its receivers run on worker threads.
# Everything else is the django.dispatch.Signal API (@receiver, connect, ...).
order_placed = AsyncSignal()
