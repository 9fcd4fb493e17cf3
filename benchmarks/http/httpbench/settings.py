"""
Settings of the benchmark's Django project.

EVENTX_HTTP_BENCH_MODE picks what happens to post_save of an Order:

    none     no receiver connected (the floor: a request that saves a row)
    inline   Django's plain post_save; the receiver runs in the request
    async    django-eventx installed and post_save in EVENTX_ASYNC_SIGNALS;
             the receiver runs in the library's background threads

Everything else is what `startproject` gives a user, on purpose: the
benchmark asks how the library behaves with Django's defaults. In particular
the database has no CONN_MAX_AGE (so 0: a connection per request, and per
background job), no CONN_HEALTH_CHECKS and no connection pool, and no
EVENTX_* setting except EVENTX_ASYNC_SIGNALS.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

MODES = ("none", "inline", "async")

HTTP_BENCH_MODE = os.environ.get("EVENTX_HTTP_BENCH_MODE", "none")
if HTTP_BENCH_MODE not in MODES:
    raise ImproperlyConfigured(
        f"EVENTX_HTTP_BENCH_MODE must be one of {', '.join(MODES)}, not {HTTP_BENCH_MODE!r}."
    )

SECRET_KEY = "eventx-http-benchmark-not-secret"
# DEBUG off as in production: with DEBUG on Django keeps every query in memory.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = ["shop"]
if HTTP_BENCH_MODE == "async":
    # Appended last, as the project README tells users to.
    INSTALLED_APPS.append("eventx_signals")
    EVENTX_ASYNC_SIGNALS = ["django.db.models.signals.post_save"]

# startproject's middleware minus sessions, auth and messages: the project has
# no contrib apps, and none of the three touches the database for this view.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "httpbench.urls"
WSGI_APPLICATION = "httpbench.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("EVENTX_HTTP_BENCH_DB", "eventx_http_bench"),
        "HOST": os.environ.get("EVENTX_HTTP_BENCH_PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("EVENTX_HTTP_BENCH_PGPORT", "5432"),
        "USER": os.environ.get("EVENTX_HTTP_BENCH_PGUSER", "postgres"),
        "PASSWORD": os.environ.get("EVENTX_HTTP_BENCH_PGPASSWORD", ""),
        # CONN_MAX_AGE, CONN_HEALTH_CHECKS and OPTIONS["pool"] deliberately
        # absent: Django's defaults are what most users run.
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
