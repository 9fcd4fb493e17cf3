"""WSGI entry point for gunicorn: `gunicorn httpbench.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "httpbench.settings")

if os.environ.get("EVENTX_HTTP_BENCH_MODE") == "async+trace":
    # In each worker (gunicorn imports this module after the fork), before
    # Django and django-eventx start.
    from httpbench.tracing import configure

    configure(os.environ["EVENTX_HTTP_BENCH_SPAN_DIR"])

application = get_wsgi_application()
