"""Settings of the test project: SQLite by default, PostgreSQL when
EVENTX_TEST_DATABASE_URL is set (postgres://user@host:port/name)."""

import os
from urllib.parse import urlparse

SECRET_KEY = "eventx-tests"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "eventx_signals",
    "tests.testapp",
]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ROOT_URLCONF = "tests.urls"
# Django 6.1 sends e-mail through MAILERS and warns about its absence (the
# test runner puts its in-memory backend in place either way); earlier
# releases ignore the setting.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STATIC_URL = "/static/"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# The default backend, and an alias that runs receivers inline, for the
# tests that compare the two.
EVENTX_BACKENDS = {
    "default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
    "immediate": {"BACKEND": "eventx_signals.backends.immediate.ImmediateBackend"},
    # The out-of-process backends, run by real workers in tests/test_*_backend.py.
    "tasks": {
        "BACKEND": "eventx_signals.backends.django_tasks.DjangoTasksBackend",
        "OPTIONS": {"queue_name": "eventx-test"},
    },
    "celery": {
        "BACKEND": "eventx_signals.backends.celery.CeleryBackend",
        "OPTIONS": {"app": "tests.celery_app.app", "queue": "eventx-test"},
    },
}

try:  # Django 6.x
    import django.tasks  # noqa: F401

    _TASKS_PACKAGE = "django.tasks"
except ImportError:
    _TASKS_PACKAGE = "django_tasks"
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []},
    "immediate": {"BACKEND": f"{_TASKS_PACKAGE}.backends.immediate.ImmediateBackend", "QUEUES": []},
}

# Celery: a real Redis broker when EVENTX_TEST_REDIS_URL is set (.ci/run sets
# it); the tests that need a worker process require it.
CELERY_BROKER_URL = os.environ.get("EVENTX_TEST_REDIS_URL", "memory://")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker of the tests that need the recommended late acknowledgement
# (docs/howto/celery.rst).
if os.environ.get("EVENTX_TEST_CELERY_ACKS_LATE"):
    CELERY_TASK_ACKS_LATE = True
    CELERY_TASK_REJECT_ON_WORKER_LOST = True


def _database_from_url(url: str) -> dict[str, object]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"EVENTX_TEST_DATABASE_URL must be a postgres:// URL, not {url!r}.")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parsed.path.lstrip("/") or "test",
        "USER": parsed.username or "postgres",
        "PASSWORD": parsed.password or "",
        "HOST": parsed.hostname or "127.0.0.1",
        "PORT": str(parsed.port or 5432),
        "CONN_MAX_AGE": 0,
    }


HERE = os.path.dirname(os.path.abspath(__file__))
# A test session started by another one (tests/test_observability.py) names
# its test databases apart, so that neither drops the other's.
_SUFFIX = os.environ.get("EVENTX_TEST_DATABASE_SUFFIX", "")

if os.environ.get("EVENTX_TEST_DATABASE_URL"):
    _postgres = _database_from_url(os.environ["EVENTX_TEST_DATABASE_URL"])
    DATABASES = {
        "default": {**_postgres, "TEST": {"NAME": f"test_{_postgres['NAME']}{_SUFFIX}"}},
        # Named after the main database, so that runs on different databases
        # (two checkouts at once) never share a test database.
        "other": {**_postgres, "TEST": {"NAME": f"test_{_postgres['NAME']}_other{_SUFFIX}"}},
    }
else:
    # Files, not memory: worker threads open connections of their own.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(HERE, "default.sqlite3"),
            "TEST": {"NAME": os.path.join(HERE, f"test-default{_SUFFIX}.sqlite3")},
        },
        "other": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(HERE, "other.sqlite3"),
            "TEST": {"NAME": os.path.join(HERE, f"test-other{_SUFFIX}.sqlite3")},
        },
    }

# A worker process started by a test uses the test's database.
if os.environ.get("EVENTX_TEST_WORKER_DATABASE"):
    DATABASES["default"] = {
        **DATABASES["default"],
        "NAME": os.environ["EVENTX_TEST_WORKER_DATABASE"],
    }

# A worker process of the post_save and post_delete tests makes them async,
# as the project it serves does (tests/test_django_tasks_backend.py).
if os.environ.get("EVENTX_TEST_ASYNC_POST_SAVE"):
    EVENTX_ASYNC_SIGNALS = {
        "django.db.models.signals.post_save": {"senders": ["testapp.Shipment"], "backend": "tasks"},
        "django.db.models.signals.post_delete": {
            "senders": ["testapp.Shipment"],
            "backend": "tasks",
        },
    }

# A worker process of the run log tests records its runs.
if os.environ.get("EVENTX_TEST_RECORD_RUNS"):
    EVENTX_RECORD_RUNS = True

# A worker process of the OpenTelemetry tests (tests/otel/) traces its runs
# and writes the spans to this file.
if os.environ.get("EVENTX_TEST_SPAN_FILE"):
    import importlib

    importlib.import_module("tests.otel_spans").configure(os.environ["EVENTX_TEST_SPAN_FILE"])
