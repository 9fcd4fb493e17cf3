"""Exceptions raised by django-eventx."""

from django.core.exceptions import ImproperlyConfigured


class EventxConfigurationError(ImproperlyConfigured):
    """An EVENTX_ setting or a backend option has a value that cannot work."""


class InvalidBackend(EventxConfigurationError):
    """A backend alias is not defined in EVENTX_BACKENDS."""
