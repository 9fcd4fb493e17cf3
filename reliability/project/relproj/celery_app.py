"""The project's Celery app, set up the usual way (config from Django's
settings, CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relproj.settings")

app = Celery("relproj")
app.config_from_object("django.conf:settings", namespace="CELERY")

#: A Celery app without a broker URL: the W003 system-check case.
bare_app = Celery("bare", set_as_current=False)
