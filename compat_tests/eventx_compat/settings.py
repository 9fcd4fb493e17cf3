"""
Minimal Django settings for running Django's ``dispatch`` and ``signals``
test suites (instead of Django's ``tests/runtests.py``).

The mode and the test apps come from the environment that
``compat_tests/run.py`` gives each mode's subprocess.
"""

import os

from eventx_compat import PATCHED_SIGNALS

MODE = os.environ.get("EVENTX_COMPAT_MODE", "baseline")
TEST_APPS = [app for app in os.environ.get("EVENTX_COMPAT_APPS", "").split(",") if app]

SECRET_KEY = "eventx-compat-tests-not-secret"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["testserver"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

DATABASES = {
    # The test database is in memory, shared between threads (Django's
    # SQLite backend uses a shared-cache memory database for tests).
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    # Installed in every mode so the baseline differs from the other modes
    # only by what each mode changes.
    "eventx_signals",
    *TEST_APPS,
]

MIDDLEWARE = []
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if MODE != "baseline":
    # Django's TestCase wraps each test in a transaction that never commits:
    # with EVENTX_ON_COMMIT=True a dispatch made there would wait for a commit
    # that never comes. The on-commit behaviour is covered by the library's
    # own tests.
    EVENTX_ON_COMMIT = False

if MODE == "patched":
    EVENTX_ASYNC_SIGNALS = list(PATCHED_SIGNALS)
