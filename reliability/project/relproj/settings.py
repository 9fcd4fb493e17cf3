"""
Settings of the reliability suite's project. Everything a test varies comes
from REL_* environment variables (see reliability/harness/procs.py):

REL_DB_NAME, REL_PG_HOST, REL_PG_PORT, REL_PG_USER   the PostgreSQL database
REL_APP_NAME       the application_name of this process's database sessions
REL_BACKEND        thread | tasks | celery: the backend of post_save of Request
REL_RECEIVER       record | flaky | closure | none: the post_save receiver connected
REL_RECEIVER_SLEEP seconds the record receiver sleeps (an e-mail, say); for
                   request ids with "-slow-" in them, REL_RECEIVER_SLOW_SLEEP
REL_LAG_RECEIVERS  both | sync | async | none: receivers of relapp.signals.lag_signal
REL_PRELOAD_GATE   a FIFO the master's runs of scenario 2 wait at until the test opens it
REL_THREAD_OPTIONS JSON OPTIONS of the thread backend
REL_REDIS_URL      the Celery broker
REL_CELERY_CONFIG  defaults | acks_late | visibility | full (the default): the
                   Celery settings below that apply
REL_LOG_DIR        where relapp.logsink writes eventx_signals' log records
REL_CHECK_CASE     a misconfiguration from relproj.check_cases
REL_RECORD_RUNS    1: the run log (EVENTX_RECORD_RUNS) is on
REL_OTEL_SPAN_DIR  where each process writes its OpenTelemetry spans (JSON
                   lines); also adds a SERVER span per request (relapp.telemetry)
REL_METRICS_PORT   the port each process serves its OpenTelemetry metrics on
                   for Prometheus (one gunicorn worker, so one port)
"""

import json
import os

SECRET_KEY = "eventx-reliability-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = ["django_tasks_db", "eventx_signals", "relapp"]
# No middleware: under ASGI each sync middleware method is a sync_to_async hop
# (GIL hand-offs in the event loop's process), which scenario 5 does not measure.
MIDDLEWARE: list[str] = []
if os.environ.get("REL_OTEL_SPAN_DIR"):  # scenario 9: a request span, as instrumentation makes
    MIDDLEWARE.append("relapp.telemetry.ServerSpanMiddleware")
ROOT_URLCONF = "relproj.urls"
WSGI_APPLICATION = "relproj.wsgi.application"

# Django's defaults on purpose: no CONN_MAX_AGE (so 0), no pool.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("REL_DB_NAME", "eventx_reliability"),
        "HOST": os.environ.get("REL_PG_HOST", "127.0.0.1"),
        "PORT": os.environ.get("REL_PG_PORT", "5432"),
        "USER": os.environ.get("REL_PG_USER", "postgres"),
        "PASSWORD": os.environ.get("REL_PG_PASSWORD", ""),
        # So that a test finds the sessions of one process (a db_worker's).
        "OPTIONS": {"application_name": os.environ.get("REL_APP_NAME", "relproj")},
    }
}

REL_BACKEND = os.environ.get("REL_BACKEND", "thread")
REL_RECEIVER = os.environ.get("REL_RECEIVER", "record")
REL_RECEIVER_SLEEP = float(os.environ.get("REL_RECEIVER_SLEEP", "0.02"))
REL_LAG_RECEIVERS = os.environ.get("REL_LAG_RECEIVERS", "both")  # both | sync | async | none
REL_RECEIVER_SLOW_SLEEP = float(os.environ.get("REL_RECEIVER_SLOW_SLEEP", "0.4"))
REL_PRELOAD_GATE = os.environ.get("REL_PRELOAD_GATE", "")

THREAD = "eventx_signals.backends.thread.ThreadBackend"
_backends = {
    "thread": {
        "BACKEND": THREAD,
        "OPTIONS": json.loads(os.environ.get("REL_THREAD_OPTIONS", "{}")),
    },
    "tasks": {
        "BACKEND": "eventx_signals.backends.django_tasks.DjangoTasksBackend",
        "OPTIONS": {"queue_name": "events"},
    },
    "celery": {
        "BACKEND": "eventx_signals.backends.celery.CeleryBackend",
        "OPTIONS": {"app": "relproj.celery_app.app", "queue": "rel-events"},
    },
}
EVENTX_BACKENDS = {
    "default": _backends[REL_BACKEND],
    # relapp.signals.lag_signal (scenario 5): slow receivers, many threads.
    "lag": {"BACKEND": THREAD, "OPTIONS": {"workers": 16}},
}
EVENTX_ASYNC_SIGNALS = {"django.db.models.signals.post_save": ["relapp.Request"]}
EVENTX_RECORD_RUNS = os.environ.get("REL_RECORD_RUNS") == "1"
# Long enough to drain a backlog at SIGTERM on a loaded machine (scenario 1
# took up to 19 s with two busy processes beside the suite), with room for a
# stall; gunicorn's graceful timeout is set above it by the tests.
EVENTX_SHUTDOWN_TIMEOUT = 60

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "events"]}}

# -- Celery (see reliability/README.rst, "Celery: what makes 0 loss hold") ------
CELERY_BROKER_URL = os.environ.get("REL_REDIS_URL", "memory://")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# REL_CELERY_CONFIG picks how much of it applies, to show what each part buys
# (reliability/README.rst): defaults | acks_late | visibility | full.
REL_CELERY_CONFIG = os.environ.get("REL_CELERY_CONFIG", "full")
if REL_CELERY_CONFIG in ("acks_late", "visibility", "full"):
    # Ack a message after the receiver ran, not before: a worker killed
    # mid-run leaves it unacknowledged, so the broker can deliver it again.
    CELERY_TASK_ACKS_LATE = True
    # Prefork pool: a child killed mid-run puts its message back instead of
    # acking it as failed (WorkerLostError).
    CELERY_TASK_REJECT_ON_WORKER_LOST = True
    # Hold one message per pool slot, so a kill strands as few as possible.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
if REL_CELERY_CONFIG in ("visibility", "full"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis has no per-consumer acks: an unacked message is delivered again
        # only once it has been out this long (default: one hour). It must be
        # longer than any message is held by a live worker (run time, prefetch
        # wait, countdown of a retry), or live work runs twice.
        "visibility_timeout": float(os.environ.get("REL_CELERY_VISIBILITY_TIMEOUT", "5")),
    }
if REL_CELERY_CONFIG == "full":
    # kombu 5.7 looks for such messages every unacked_restore_interval x
    # unacked_restore_throttle seconds (10 x 10 by default): every second.
    # A worker killed during that sweep leaves its mutex held for
    # unacked_mutex_expire seconds (300 by default), and nobody restores
    # anything meanwhile: 10 s.
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        unacked_restore_interval=1, unacked_restore_throttle=1, unacked_mutex_expire=10
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "jsonl": {"class": "relapp.logsink.JsonLinesHandler"},
        "stderr": {"class": "logging.StreamHandler", "level": "WARNING"},
    },
    "loggers": {
        "eventx_signals": {"handlers": ["jsonl", "stderr"], "level": "WARNING", "propagate": False},
        # The deliberate 500s: counted by the tests, not worth a traceback each.
        "django.request": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}

if os.environ.get("REL_CHECK_CASE"):
    from relproj.check_cases import apply_case

    apply_case(globals(), os.environ["REL_CHECK_CASE"])
