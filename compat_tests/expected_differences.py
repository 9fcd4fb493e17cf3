"""
Tests of Django's suites whose expectation cannot hold when receivers run in
the background: mode -> {test id: one-line reason}.

This is the single source that ``run.py`` uses to tell expected differences
from regressions. ``README.rst`` lists the same entries in its "Expected
differences" table, and ``run.py`` fails when the two disagree.

Only list a test here when the reason is inherent to background execution
(or to the snapshot of arguments it requires). A test that fails because of
a bug in django-eventx must be fixed in the library, never listed here.
"""

_UNSAVED_SNAPSHOT = (
    "pre_save receivers get a snapshot of the unsaved instance (pk None), and a "
    "model instance without pk equals only itself, so it never equals the "
    "instance the test saved."
)
_DELETED_SNAPSHOT = (
    "receivers get a snapshot taken at send time, which keeps the pk that "
    "delete() then sets to None on the caller's instance, so the two no longer "
    "compare equal."
)

_CONTEXTVARS_TO_CALLER = (
    "Django 6.1 expects the caller to see the contextvar changes its receivers "
    "made; receivers run on worker threads in a copy of the sender's context, "
    "so their changes cannot reach the caller."
)

EXPECTED_DIFFERENCES: dict[str, dict[str, str]] = {
    "asyncsignal": {
        # Django 6.1+: TestReceiversContextVarsSharing.
        f"signals.tests.TestReceiversContextVarsSharing.test_{method}_correct_contextvars_sharing_{kind}_receivers": (
            _CONTEXTVARS_TO_CALLER
        )
        for method in ("send", "send_robust", "asend", "asend_robust")
        for kind in ("sync", "async", "mix")
    },
    "patched": {
        "signals.tests.SignalTests.test_save_signals": _UNSAVED_SNAPSHOT,
        "signals.tests.SignalTests.test_decorators": _UNSAVED_SNAPSHOT,
        "signals.tests.SignalTests.test_delete_signals": _DELETED_SNAPSHOT,
        "signals.tests.SignalTests.test_delete_signals_origin_model": (
            "the origin instance passed to pre/post_delete receivers is a snapshot "
            "that keeps the pk delete() then sets to None on the caller's "
            "instance, so the two no longer compare equal."
        ),
    },
}
