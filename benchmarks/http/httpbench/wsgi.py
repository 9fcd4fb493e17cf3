"""WSGI entry point for gunicorn: `gunicorn httpbench.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "httpbench.settings")

application = get_wsgi_application()
