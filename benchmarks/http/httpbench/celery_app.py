"""The project's Celery app, set up as a Django project's ``celery.py``
usually is; used in mode "celery" only (the "celery" alias of
EVENTX_BACKENDS names it, and the worker runs ``celery -A
httpbench.celery_app worker``). The broker is CELERY_BROKER_URL of the
settings (EVENTX_HTTP_BENCH_REDIS_URL)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "httpbench.settings")

app = Celery("httpbench")
app.config_from_object("django.conf:settings", namespace="CELERY")
