"""Signals whose receivers run in worker processes in the backend tests."""

from eventx_signals import AsyncSignal

#: Dispatched on the django_tasks backend.
order_paid_tasks = AsyncSignal(backend="tasks")
#: Dispatched on the celery backend.
order_paid_celery = AsyncSignal(backend="celery")
#: Receivers that return or raise what a worker must survive, on each engine.
misbehaving_tasks = AsyncSignal(backend="tasks")
misbehaving_celery = AsyncSignal(backend="celery")
