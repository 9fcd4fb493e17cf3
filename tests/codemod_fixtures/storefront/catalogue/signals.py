from django.dispatch import Signal

# Sent by the product page.
product_viewed = Signal()
