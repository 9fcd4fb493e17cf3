from django.dispatch import Signal

half_written = Signal(
