"""
Every system check id of django-eventx, with what it reports: the one table
of them. Every id the package reports is in it, and the table of
docs/reference/checks.rst says the same (``tests/test_check_ids.py`` keeps
them so).
"""

from __future__ import annotations

#: id -> what the check reports (docs/reference/checks.rst says the same).
CHECK_IDS = {
    "eventx_signals.E001": "``EVENTX_BACKENDS`` is not a dict.",
    "eventx_signals.E002": '``EVENTX_BACKENDS`` has no ``"default"`` alias.',
    "eventx_signals.E003": (
        "An alias has an unknown key, a ``BACKEND`` that cannot be imported or is not a "
        "backend, or a bad ``OPTIONS`` value."
    ),
    "eventx_signals.E004": "``EVENTX_ON_COMMIT`` is not a bool.",
    "eventx_signals.E005": "``EVENTX_SHUTDOWN_TIMEOUT`` is not a finite number >= 0.",
    "eventx_signals.E006": "``EVENTX_ASYNC_SIGNALS`` is neither a list nor a dict.",
    "eventx_signals.E007": (
        "An ``EVENTX_ASYNC_SIGNALS`` entry is not a dotted path, or cannot be imported."
    ),
    "eventx_signals.E008": "An ``EVENTX_ASYNC_SIGNALS`` path is not a ``Signal``.",
    "eventx_signals.E009": "An ``EVENTX_ASYNC_SIGNALS`` signal must stay synchronous.",
    "eventx_signals.E010": (
        "An ``EVENTX_ASYNC_SIGNALS`` sender list is not a list of labels, or names a model "
        "that is not installed."
    ),
    "eventx_signals.E011": "``EVENTX_AUTODISCOVER`` is not a bool.",
    "eventx_signals.E012": "An ``EVENTX_ASYNC_SIGNALS`` entry has unknown keys or a bad ``backend``.",
    "eventx_signals.E013": (
        "An ``AsyncSignal`` or a patched signal names an alias ``EVENTX_BACKENDS`` does not define."
    ),
    "eventx_signals.E014": "``EVENTX_RETRY`` has an unknown key or a bad value.",
    "eventx_signals.E015": "``EVENTX_RECORD_RUNS`` or ``EVENTX_RECORD_KWARGS`` is not a bool.",
    "eventx_signals.E016": "``EVENTX_RECORD_RETENTION_DAYS`` is not a finite number > 0.",
    "eventx_signals.E017": "``EVENTX_EAGER`` is not a bool.",
    "eventx_signals.W001": "A ``pre_*`` signal in ``EVENTX_ASYNC_SIGNALS``.",
    "eventx_signals.W002": "An ``EVENTX_ASYNC_SIGNALS`` entry is already an ``AsyncSignal``.",
    "eventx_signals.W003": (
        "The Celery app of a ``celery`` alias has no broker URL, or cannot be imported."
    ),
    "eventx_signals.W004": (
        "A receiver routed to an out-of-process backend that a worker could not find by "
        "name: it runs in the sending process."
    ),
    "eventx_signals.W005": "``EVENTX_RECORD_EVENTS`` is set: it is ``EVENTX_RECORD_RUNS`` now.",
}
