"""
django-eventx: Django signals whose receivers run in the background.

Importing this package touches no settings, models or threads.
"""

from django.dispatch import receiver

from .signals import AsyncSignal
from .stats import stats

__version__ = "0.1.0"

__all__ = ["AsyncSignal", "receiver", "stats"]
