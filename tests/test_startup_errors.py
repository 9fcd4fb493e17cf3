"""Servers and scripts never run system checks: a bad setting still logs an
ERROR at start-up (the check's own text, with "did you mean" for a near
miss), and the valid settings still apply."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from eventx_signals.checks import check_async_signals_setting, check_backends

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import django, threading
from django.conf import settings
settings.configure(
    INSTALLED_APPS=[
        "django.contrib.contenttypes", "django.contrib.auth", "eventx_signals", "tests.testapp",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    EVENTX_AUTODISCOVER=False,
    EVENTX_ASYNC_SIGNALS={
        "django.db.models.signals.post_save": ["testapp.Ordr", "testapp.Shipment"],
        "django.db.models.signals.post_sav": None,
    },
    EVENTX_BACKENDS={
        "default": {"BACKEND": "eventx_signals.backends.thread.ThreadBacknd"},
        "fast": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
    },
)
django.setup()   # what gunicorn's WSGI module and a script do: no system checks
from django.db.models.signals import post_save
from eventx_signals.dispatch.patching import get_patch
print("patched for", sorted(m._meta.label for m in get_patch(post_save).senders()))
"""


def test_a_script_logs_each_bad_setting_at_start_up_and_keeps_the_good_ones():
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    errors = {
        line.split("(eventx_signals.", 1)[1][:4]: line
        for line in completed.stderr.splitlines()
        if "setting error" in line
    }
    assert sorted(errors) == ["E003", "E007", "E010"], completed.stderr
    assert "did you mean 'eventx_signals.backends.thread.ThreadBackend'?" in errors["E003"]
    assert "did you mean 'django.db.models.signals.post_save'?" in errors["E007"]
    assert (
        "'testapp.Ordr', which is not installed (did you mean 'testapp.Order'?)" in errors["E010"]
    )
    # The valid part of the entry still applies.
    assert completed.stdout.strip() == "patched for ['testapp.Shipment']"


def test_a_project_without_mistakes_logs_nothing(caplog):
    from eventx_signals.checks import log_configuration_errors

    with caplog.at_level("ERROR", logger="eventx_signals"):
        assert log_configuration_errors() == 0
    assert caplog.records == []


@pytest.mark.parametrize(
    "label, suggestion",
    [("testapp.ordr", "'testapp.Order'"), ("testap.Order", "'testapp.Order'"), ("shop.Cart", None)],
)
def test_a_near_miss_model_label_gets_a_suggestion(label, suggestion):
    with override_settings(EVENTX_ASYNC_SIGNALS={"django.db.models.signals.post_save": [label]}):
        [message] = check_async_signals_setting()
    assert message.id == "eventx_signals.E010"
    if suggestion:
        assert f"(did you mean {suggestion}?)" in message.msg
    else:
        assert "did you mean" not in message.msg


def test_a_near_miss_alias_gets_a_suggestion():
    from eventx_signals import AsyncSignal

    signal = AsyncSignal(backend="defualt")
    messages = [m.msg for m in check_backends() if m.id == "eventx_signals.E013"]
    assert any("'defualt'" in m and "(did you mean 'default'?)" in m for m in messages), messages
    del signal
