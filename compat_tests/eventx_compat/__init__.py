"""
Harness that runs Django's own ``dispatch`` and ``signals`` test suites
against django-eventx. Test-only code: nothing here is part of the library.

``compat_tests/run.py`` is the entry point; see ``compat_tests/README.rst``.
"""

#: Django's test suites (directories of the sdist's ``tests/``) that are run.
SUITES = ("dispatch", "signals")

#: The three modes, in the order they run and are reported.
MODES = ("baseline", "asyncsignal", "patched")

MODE_TITLES = {
    "baseline": "Django's suites unchanged",
    "asyncsignal": "every Signal of the suites is an AsyncSignal, futures awaited",
    "patched": "Django's model signals made async by EVENTX_ASYNC_SIGNALS, futures awaited",
}

#: The model signals that mode "patched" lists in EVENTX_ASYNC_SIGNALS.
#: pre_init, post_init, class_prepared, pre_migrate and post_migrate must
#: stay synchronous (EVENTX_ASYNC_SIGNALS may not list them), so they are not listed.
PATCHED_SIGNALS = (
    "django.db.models.signals.pre_save",
    "django.db.models.signals.post_save",
    "django.db.models.signals.pre_delete",
    "django.db.models.signals.post_delete",
    "django.db.models.signals.m2m_changed",
)

#: Exit status of a mode's subprocess when the mode cannot run at all.
EXIT_UNAVAILABLE = 3
