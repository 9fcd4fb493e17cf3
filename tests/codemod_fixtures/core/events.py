import django.dispatch

# Project-wide events.
maintenance_started = django.dispatch.Signal(use_caching=True)
