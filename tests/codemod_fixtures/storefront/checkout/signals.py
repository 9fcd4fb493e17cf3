from django.dispatch import Signal

# Sent before the payment is taken, and once it is.
pre_payment = Signal()
payment_taken = Signal()

order_placed = Signal()
