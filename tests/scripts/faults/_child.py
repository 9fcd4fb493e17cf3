"""Shared set-up of the fault-path child processes (tests/test_fault_paths.py).

Each script configures Django with ``configure()``, prints progress words
(``sent``, ``ready``) on lines of their own, and prints its findings as one
line ``RESULT {json}``. Log records of ``eventx_signals`` go to stderr as
``LEVEL eventx_signals: message``.
"""

import json
import sys

THREAD_BACKEND = "eventx_signals.backends.thread.ThreadBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        }
    },
    "loggers": {"eventx_signals": {"handlers": ["stderr"], "level": "WARNING", "propagate": False}},
}


def backend_settings(**options):
    """The settings that give the default backend alias a ThreadBackend with
    ``options``."""
    return {"EVENTX_BACKENDS": {"default": {"BACKEND": THREAD_BACKEND, "OPTIONS": options}}}


def configure(backend_options=None, **settings):
    """settings.configure() with the app installed, then django.setup()."""
    import django
    from django.conf import settings as django_settings

    options = {} if backend_options is None else backend_options
    django_settings.configure(
        INSTALLED_APPS=["eventx_signals"],
        LOGGING=LOGGING,
        **backend_settings(**options),
        **settings,
    )
    django.setup()


def say(word):
    print(word, flush=True)


def result(**findings):
    print("RESULT " + json.dumps(findings), flush=True)


def count_lines(path):
    try:
        with open(path) as handle:
            return sum(1 for line in handle if line.strip())
    except FileNotFoundError:
        return 0


if __name__ == "__main__":
    sys.exit("A helper module, not a script.")
