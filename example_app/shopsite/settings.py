"""Settings of the django-eventx example shop.

A few values can be changed through environment variables, so that the test
suite can run the demo without writing into the source tree:

``EXAMPLE_APP_DB``
    Path of the SQLite database (default: ``example_app/db.sqlite3``).
``EXAMPLE_APP_WAREHOUSE_URL``
    The warehouse API the ``notify_warehouse`` receiver POSTs to (default: the
    fake one this site serves itself under ``runserver``'s default address).
``EXAMPLE_APP_EVENTX_LOG_LEVEL``
    Level of the ``eventx_signals`` logger (default ``INFO``: one line per
    receiver run, with its duration).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent  # example_app/

# A demo project: never deploy these two as they are.
SECRET_KEY = "django-insecure-eventx-example-shop"
DEBUG = os.environ.get("EXAMPLE_APP_DEBUG", "1") == "1"

# "testserver" is the host name of django.test.Client, which the demo uses.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    # Applies EVENTX_ASYNC_SIGNALS at start-up, imports every app's
    # listeners.py, runs the system checks, adds `manage.py eventx`.
    "eventx_signals",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

ROOT_URLCONF = "shopsite.urls"
WSGI_APPLICATION = "shopsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_APP_DB") or str(BASE_DIR / "db.sqlite3"),
        # Receivers write from worker threads while requests write too:
        # WAL lets readers and one writer work side by side, and a writer
        # waits for the lock instead of failing with "database is locked".
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

# E-mail: printed on the console under runserver. The demo command points
# the SMTP backend at a local fake SMTP server instead.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "shop@example.com"
EMAIL_TIMEOUT = 10

# The warehouse API told about each order. By default the fake one this site
# serves itself (shop.views.fake_warehouse_api) at runserver's default address.
WAREHOUSE_API_URL = os.environ.get(
    "EXAMPLE_APP_WAREHOUSE_URL", "http://127.0.0.1:8000/warehouse/api/shipments/"
)
WAREHOUSE_API_TIMEOUT = 10

# --- django-eventx ------------------------------------------------------------

# Make Django's own post_save dispatch in the background for shop.Order, without
# touching the receivers: shop.receivers.write_audit_entry is a plain @receiver.
# Saves of other models (User, ...) keep Django's inline behaviour.
EVENTX_ASYNC_SIGNALS = {
    "django.db.models.signals.post_save": ["shop.Order"],
}
# The default: an in-process pool of worker threads. Receivers that wait on
# I/O (SMTP, HTTP) are a good fit; more workers, more of them at once.
EVENTX_BACKENDS = {
    "default": {
        "BACKEND": "eventx_signals.backends.thread.ThreadBackend",
        "OPTIONS": {"workers": 4},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "[{levelname}] {name}: {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        # INFO: one line per receiver run, with its duration. The demo command
        # lowers it to WARNING to keep its own output readable.
        "eventx_signals": {
            "handlers": ["console"],
            "level": os.environ.get("EXAMPLE_APP_EVENTX_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        "shop": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
