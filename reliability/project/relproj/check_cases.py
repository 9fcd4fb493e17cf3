"""One misconfiguration per system check id of django-eventx (docs/reference/checks.rst,
"System checks"); REL_CHECK_CASE=<id> applies it to the settings."""

THREAD = "eventx_signals.backends.thread.ThreadBackend"
CELERY = "eventx_signals.backends.celery.CeleryBackend"
TASKS = "eventx_signals.backends.django_tasks.DjangoTasksBackend"
POST_SAVE = "django.db.models.signals.post_save"
UNSET = object()  # the case removes the setting

CASES = {
    # No misconfiguration: no eventx_signals id may appear.
    "ok": {},
    "eventx_signals.E001": {"EVENTX_BACKENDS": ["thread"]},
    "eventx_signals.E002": {
        "EVENTX_BACKENDS": {"bulk": {"BACKEND": THREAD}, "lag": {"BACKEND": THREAD}}
    },
    "eventx_signals.E003": {
        "EVENTX_BACKENDS": {
            "default": {"BACKEND": THREAD, "OPTIONS": {"workers": 0}},
            "lag": {"BACKEND": THREAD},
        }
    },
    "eventx_signals.E004": {"EVENTX_ON_COMMIT": "yes"},
    "eventx_signals.E005": {"EVENTX_SHUTDOWN_TIMEOUT": -1},
    "eventx_signals.E006": {"EVENTX_ASYNC_SIGNALS": POST_SAVE},
    "eventx_signals.E007": {"EVENTX_ASYNC_SIGNALS": ["django.db.models.signals.no_such_signal"]},
    "eventx_signals.E008": {"EVENTX_ASYNC_SIGNALS": ["django.db.models.signals.ModelSignal"]},
    "eventx_signals.E009": {"EVENTX_ASYNC_SIGNALS": ["django.core.signals.request_finished"]},
    "eventx_signals.E010": {"EVENTX_ASYNC_SIGNALS": {POST_SAVE: ["relapp.NoSuchModel"]}},
    "eventx_signals.E011": {"EVENTX_AUTODISCOVER": "yes"},
    "eventx_signals.E012": {"EVENTX_ASYNC_SIGNALS": {POST_SAVE: {"senders": None, "queue": "x"}}},
    "eventx_signals.E013": {"EVENTX_ASYNC_SIGNALS": {POST_SAVE: {"backend": "no-such-alias"}}},
    "eventx_signals.E014": {"EVENTX_RETRY": {"max_attempts": 0}},
    "eventx_signals.E015": {"EVENTX_RECORD_RUNS": "yes"},
    "eventx_signals.E016": {"EVENTX_RECORD_RETENTION_DAYS": 0},
    "eventx_signals.E017": {"EVENTX_EAGER": "yes"},
    "eventx_signals.W001": {"EVENTX_ASYNC_SIGNALS": ["django.db.models.signals.pre_save"]},
    "eventx_signals.W002": {"EVENTX_ASYNC_SIGNALS": ["relapp.signals.lag_signal"]},
    "eventx_signals.W003": {
        "EVENTX_BACKENDS": {
            "default": {"BACKEND": THREAD},
            "lag": {"BACKEND": THREAD},
            "celery": {"BACKEND": CELERY, "OPTIONS": {"app": "relproj.celery_app.bare_app"}},
        }
    },
    # A receiver defined inside a function, on post_save sent to db_worker.
    "eventx_signals.W004": {
        "EVENTX_BACKENDS": {
            "default": {"BACKEND": TASKS, "OPTIONS": {"queue_name": "events"}},
            "lag": {"BACKEND": THREAD},
        },
        "REL_RECEIVER": "closure",
    },
    # The setting under the name it had before (EVENTX_RECORD_RUNS unset).
    "eventx_signals.W005": {"EVENTX_RECORD_EVENTS": True, "EVENTX_RECORD_RUNS": UNSET},
}


def apply_case(settings: dict, case: str) -> None:
    for name, value in CASES[case].items():
        if value is UNSET:
            settings.pop(name, None)
        else:
            settings[name] = value
