"""
Settings of the benchmark's Django project.

EVENTX_HTTP_BENCH_MODE picks what happens to post_save of an Order:

    none       no receiver connected (the floor: a request that saves a row)
    inline     Django's plain post_save; the receiver runs in the request
    async      django-eventx installed and post_save in EVENTX_ASYNC_SIGNALS;
               the receiver runs in the library's background threads
    async+log  async, plus EVENTX_RECORD_RUNS = True: every receiver run
               becomes a row of the run log (eventx_signals' migration)
    async+trace  async, plus the OpenTelemetry SDK in each gunicorn worker
               (httpbench/tracing.py, set up by wsgi.py): a SERVER span per
               request, spans exported in batches to a JSON-lines file
    celery     post_save of shop.Order on the "celery" alias (CeleryBackend,
               Redis broker): the request enqueues, a `celery worker` runs it
    tasks      post_save of shop.Order on the "tasks" alias
               (DjangoTasksBackend on django-tasks-db): the request writes a
               task row, `manage.py db_worker` processes run it

Everything else is what `startproject` gives a user, on purpose: the
benchmark asks how the library behaves with Django's defaults. In particular
the database has no CONN_MAX_AGE (so 0: a connection per request, and per
background job), no CONN_HEALTH_CHECKS and no connection pool, and no
EVENTX_* setting except those each mode needs.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

MODES = ("none", "inline", "async", "async+log", "async+trace", "celery", "tasks")

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
if HTTP_BENCH_MODE in ("async", "async+log", "async+trace"):
    # Appended last, as the project README tells users to.
    INSTALLED_APPS.append("eventx_signals")
    EVENTX_ASYNC_SIGNALS = ["django.db.models.signals.post_save"]
    if HTTP_BENCH_MODE == "async+log":
        # The run log: one ReceiverRun row per receiver attempt, written in
        # batches by one writer thread per process (needs eventx_signals'
        # migration, which `migrate` applies).
        EVENTX_RECORD_RUNS = True
elif HTTP_BENCH_MODE in ("celery", "tasks"):
    # The receiver runs in another process: only Order's post_save goes
    # there (the receiver's own Receipt.objects.create() stays inline, and has
    # no receiver), on the alias of the mode; "default" stays the thread
    # backend, unused.
    if HTTP_BENCH_MODE == "tasks":
        INSTALLED_APPS.append("django_tasks_db")
    INSTALLED_APPS.append("eventx_signals")
    EVENTX_ASYNC_SIGNALS = {
        "django.db.models.signals.post_save": {
            "senders": ["shop.Order"],
            "backend": HTTP_BENCH_MODE,
        }
    }
    # Only the alias of the mode: the other engine is not set up here.
    EVENTX_BACKENDS = {
        "default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
        "celery": {
            "BACKEND": "eventx_signals.backends.celery.CeleryBackend",
            "OPTIONS": {"app": "httpbench.celery_app.app", "queue": "eventx-http-bench"},
        },
        "tasks": {"BACKEND": "eventx_signals.backends.django_tasks.DjangoTasksBackend"},
    }
    for _alias in ("celery", "tasks"):
        if _alias != HTTP_BENCH_MODE:
            del EVENTX_BACKENDS[_alias]
    # django-tasks-db: task rows in the default database, any queue name.
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
    # Celery (read by httpbench/celery_app.py): JSON only, no result backend.
    CELERY_BROKER_URL = os.environ.get("EVENTX_HTTP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    CELERY_TASK_SERIALIZER = "json"
    CELERY_ACCEPT_CONTENT = ["json"]
    CELERY_TASK_IGNORE_RESULT = True
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# startproject's middleware minus sessions, auth and messages: the project has
# no contrib apps, and none of the three touches the database for this view.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if HTTP_BENCH_MODE == "async+trace":
    # First, as an instrumentation's middleware goes: the request's span
    # covers the rest of the middleware and the view.
    MIDDLEWARE.insert(0, "httpbench.tracing.ServerSpanMiddleware")

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
