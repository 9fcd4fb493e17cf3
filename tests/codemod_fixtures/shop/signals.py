"""Signals sent by the shop app."""
from django.dispatch import Signal

# Sent once the payment provider has confirmed the payment.
order_paid = Signal()

order_shipped = Signal(  # sent by the warehouse integration
    use_caching=True,
)
