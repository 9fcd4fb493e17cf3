"""Signals whose receivers run in worker processes in the backend tests."""

from eventx_signals import AsyncSignal

#: Dispatched on the django_tasks backend.
order_paid_tasks = AsyncSignal(backend="tasks")
#: Dispatched on the celery backend.
order_paid_celery = AsyncSignal(backend="celery")
