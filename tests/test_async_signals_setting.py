"""EVENTX_ASYNC_SIGNALS: patch existing signals from settings, checked at start-up."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.dispatch import Signal
from django.test import override_settings

from eventx_signals import AsyncSignal, unpatch_signal
from eventx_signals.checks import check_async_signals_setting
from eventx_signals.dispatch.patching import apply_async_signals, get_patch, is_patched

ROOT = Path(__file__).resolve().parent.parent

custom_signal = Signal()
already_async = AsyncSignal()
not_a_signal = 42
pre_custom = Signal()


def check_ids(value):
    with override_settings(EVENTX_ASYNC_SIGNALS=value):
        return [(m.id, m.msg) for m in check_async_signals_setting()]


def test_list_form_patches_each_signal():
    try:
        assert apply_async_signals(["tests.test_async_signals_setting.custom_signal"]) == [
            custom_signal
        ]
        assert is_patched(custom_signal)
        assert get_patch(custom_signal).senders() is None
    finally:
        unpatch_signal(custom_signal)


def test_dict_form_restricts_senders():
    from tests.testapp.models import Order

    try:
        apply_async_signals({"tests.test_async_signals_setting.custom_signal": ["testapp.Order"]})
        assert get_patch(custom_signal).senders() == {Order}
    finally:
        unpatch_signal(custom_signal)


def test_invalid_entries_are_skipped_not_fatal():
    assert apply_async_signals(["no.such.signal", "django.db.models.signals.pre_init"]) == []
    assert apply_async_signals("not a list") == []


def test_valid_setting_passes_checks():
    assert check_ids(["django.db.models.signals.post_save"]) == []
    assert check_ids({"django.db.models.signals.post_delete": ["testapp.Order"]}) == []


@pytest.mark.parametrize(
    "value, expected_id, words",
    [
        ("django.db.models.signals.post_save", "eventx_signals.E006", "must be a list"),
        (["no.such.module.signal"], "eventx_signals.E007", "cannot be imported"),
        (
            ["tests.test_async_signals_setting.not_a_signal"],
            "eventx_signals.E008",
            "not a django.dispatch.Signal",
        ),
        (["django.db.models.signals.post_migrate"], "eventx_signals.E009", "must stay synchronous"),
        (["django.db.models.signals.pre_init"], "eventx_signals.E009", "must stay synchronous"),
        (["django.core.signals.request_finished"], "eventx_signals.E009", "must stay synchronous"),
        (
            ["django.db.backends.signals.connection_created"],
            "eventx_signals.E009",
            "must stay synchronous",
        ),
        (["django.db.models.signals.pre_save"], "eventx_signals.W001", "@keep_inline"),
        (
            {"django.db.models.signals.post_save": ["shop.Nope"]},
            "eventx_signals.E010",
            "'shop.Nope'",
        ),
        (
            ["tests.test_async_signals_setting.already_async"],
            "eventx_signals.W002",
            "already an AsyncSignal",
        ),
    ],
)
def test_bad_entries_are_reported(value, expected_id, words):
    messages = check_ids(value)
    assert [m[0] for m in messages] == [expected_id]
    assert words in messages[0][1]


@override_settings(EVENTX_AUTODISCOVER="yes")
def test_autodiscover_must_be_bool():
    from eventx_signals.checks import check_settings

    assert [m.id for m in check_settings()] == ["eventx_signals.E011"]


def test_one_settings_line_makes_existing_receivers_async(tmp_path):
    """A project with existing @receiver(post_save) code, made async by a setting."""
    script = tmp_path / "project.py"
    script.write_text(
        """
import threading, django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "eventx_signals"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    EVENTX_ASYNC_SIGNALS=["django.db.models.signals.post_save"],
)
django.setup()
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.contrib.auth.models import Group
main = threading.current_thread()
seen = []
release = threading.Event()

@receiver(post_save, sender="auth.Group")
def slow(sender, instance, created, **kwargs):
    release.wait(10)
    seen.append((instance.name, created, threading.current_thread() is main))

from django.core.management import call_command
call_command("migrate", verbosity=0)
Group.objects.create(name="staff")   # returns while the receiver waits
assert seen == [], seen
release.set()
from eventx_signals.testing import wait_for_runs
wait_for_runs(10)
print(seen)
"""
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('staff', True, False)]"
