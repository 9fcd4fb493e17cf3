"""Settings of the test project: SQLite by default, PostgreSQL when
EVENTX_TEST_DATABASE_URL is set (postgres://user@host:port/name)."""

import os
from urllib.parse import urlparse

SECRET_KEY = "eventx-tests"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "eventx_signals",
    "tests.testapp",
]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# The default backend, and an alias that runs receivers inline, for the
# tests that compare the two.
EVENTX_BACKENDS = {
    "default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
    "immediate": {"BACKEND": "eventx_signals.backends.immediate.ImmediateBackend"},
}


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

if os.environ.get("EVENTX_TEST_DATABASE_URL"):
    _postgres = _database_from_url(os.environ["EVENTX_TEST_DATABASE_URL"])
    DATABASES = {
        "default": _postgres,
        "other": {**_postgres, "TEST": {"NAME": "test_eventx_other"}},
    }
else:
    # Files, not memory: worker threads open connections of their own.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(HERE, "default.sqlite3"),
            "TEST": {"NAME": os.path.join(HERE, "test-default.sqlite3")},
        },
        "other": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(HERE, "other.sqlite3"),
            "TEST": {"NAME": os.path.join(HERE, "test-other.sqlite3")},
        },
    }
