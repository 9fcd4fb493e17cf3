"""EVENTX_EAGER and the pytest ini option eventx_eager: a project's existing
tests pass unchanged once its signals are async, as Celery's
task_always_eager lets them."""

import io
import os
import subprocess
import sys
import textwrap
import threading
import unittest
from pathlib import Path

import pytest
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.test import TestCase, override_settings

from eventx_signals import AsyncSignal, patched_signal
from eventx_signals.checks import check_settings
from eventx_signals.dispatch.modes import modes
from eventx_signals.testing import capture_dispatches
from tests.testapp.models import Order

ROOT = Path(__file__).resolve().parent.parent

seen = []


def confirm(sender, instance, created, **kwargs):
    """A receiver written for Django's own post_save, with a test below."""
    seen.append((instance.number, threading.current_thread()))
    if instance.number == "boom":
        raise ValueError("cannot confirm")
    return f"confirmed {instance.number}"


def run_existing_tests():
    """Run tests written before the project made post_save async: they count
    on the receiver having run when save() returns, and on its exception.
    Return the names of those that fail."""

    class ExistingTests(TestCase):
        def setUp(self):
            seen.clear()
            post_save.connect(confirm, sender=Order)
            self.addCleanup(post_save.disconnect, confirm, sender=Order)

        def test_the_receiver_ran_when_save_returned(self):
            Order.objects.create(number="A-1")
            self.assertEqual(seen, [("A-1", threading.current_thread())])

        def test_a_receiver_error_reaches_the_caller(self):
            with self.assertRaisesMessage(ValueError, "cannot confirm"):
                Order.objects.create(number="boom")

    result = unittest.TextTestRunner(stream=io.StringIO()).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(ExistingTests)
    )
    return sorted(test.id().rsplit(".", 1)[1] for test, _ in result.failures + result.errors)


@pytest.mark.django_db
def test_existing_tests_fail_once_post_save_is_async():
    with patched_signal(post_save, senders=[Order]):
        assert run_existing_tests() == [
            "test_a_receiver_error_reaches_the_caller",
            "test_the_receiver_ran_when_save_returned",
        ]


@pytest.mark.django_db
def test_with_eventx_eager_they_pass_unchanged():
    with patched_signal(post_save, senders=[Order]), override_settings(EVENTX_EAGER=True):
        assert run_existing_tests() == []


def test_a_patched_signal_is_djangos_own_under_the_setting():
    order_checked = Signal()
    order_checked.connect(confirm)
    with patched_signal(order_checked), override_settings(EVENTX_EAGER=True):
        responses = order_checked.send(sender=Order, instance=Order(number="A-2"), created=True)
        assert responses == [(confirm, "confirmed A-2")]  # values, not futures
        with pytest.raises(ValueError, match="cannot confirm"):
            order_checked.send(sender=Order, instance=Order(number="boom"), created=True)


def test_an_async_signal_runs_in_the_caller_inside_the_transaction(db):
    signal = AsyncSignal()
    found = []

    def count_orders(sender, **kwargs):
        found.append((Order.objects.filter(number="T-1").count(), threading.current_thread()))
        raise ValueError("kept in the future")

    signal.connect(count_orders)
    with override_settings(EVENTX_EAGER=True), transaction.atomic():
        Order.objects.create(number="T-1")
        [(_, future)] = signal.send(sender=None)
        # Ran before send() returned, in this thread, seeing the uncommitted row.
        assert found == [(1, threading.current_thread())]
        assert future.done() and isinstance(future.exception(), ValueError)


def test_eager_dispatches_of_a_patched_signal_are_captured(db):
    post_save.connect(confirm, sender=Order)
    try:
        with (
            patched_signal(post_save),
            override_settings(EVENTX_EAGER=True),
            capture_dispatches() as events,
        ):
            Order.objects.create(number="C-1")
        assert [(e.name, e.kwargs["instance"].number) for e in events] == [
            ("django.db.models.signals.post_save", "C-1")
        ]
    finally:
        post_save.disconnect(confirm, sender=Order)


def test_turning_the_setting_off_brings_the_background_back():
    order_checked = Signal()
    order_checked.connect(confirm)
    with patched_signal(order_checked):
        with override_settings(EVENTX_EAGER=True):
            assert modes.eager
            assert order_checked.send(sender=Order, instance=Order(number="B-0"), created=True)[
                0
            ] == (confirm, "confirmed B-0")
        assert not modes.eager
        [(_, future)] = order_checked.send(sender=Order, instance=Order(number="B-1"), created=True)
        assert future.result(10) == "confirmed B-1"  # a future again: background


def test_a_value_other_than_a_bool_is_a_system_check_error():
    with override_settings(EVENTX_EAGER="yes"):
        messages = [(m.id, m.msg) for m in check_settings()]
    assert ("eventx_signals.E017", "EVENTX_EAGER must be True or False, not 'yes'.") in messages


PYTEST_PROJECT_TEST = """
import threading

from django.db.models.signals import post_save
from django.dispatch import Signal

from eventx_signals import patched_signal
from tests.testapp.models import Order


def test_the_receiver_ran_when_save_returned(db):
    ran = []
    post_save.connect(lambda sender, **kw: ran.append(threading.current_thread()),
                      sender=Order, weak=False, dispatch_uid="ini-test")
    with patched_signal(post_save, senders=[Order]):
        Order.objects.create(number="I-1")
    assert ran == [threading.current_thread()]


def test_the_settings_fixture_turns_it_off(db, settings):
    from eventx_signals.dispatch.modes import modes

    settings.EVENTX_EAGER = False
    assert not modes.eager
"""


# The child run's own test databases, so that it never touches this run's.
CHILD_SETTINGS = """
import os

from tests.settings import *  # noqa: F403

HERE = os.path.dirname(os.path.abspath(__file__))
for alias, database in DATABASES.items():  # noqa: F405
    if database["ENGINE"].endswith("sqlite3"):
        database["TEST"] = {"NAME": os.path.join(HERE, f"{alias}.sqlite3")}
    else:
        database["TEST"] = {"NAME": f"test_{database['NAME']}_eager_child_{alias}"}
"""


@pytest.mark.parametrize("ini, passes", [("eventx_eager = true", True), ("", False)])
def test_the_pytest_ini_option(tmp_path, ini, passes):
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{ini}\n")
    (tmp_path / "child_settings.py").write_text(textwrap.dedent(CHILD_SETTINGS))
    (tmp_path / "test_project.py").write_text(textwrap.dedent(PYTEST_PROJECT_TEST))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    completed = subprocess.run(
        [*command, "--ds", "child_settings", "--create-db", "test_project.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if passes:
        assert completed.returncode == 0, completed.stdout[-3000:]
        assert "2 passed" in completed.stdout
    else:
        assert "1 failed, 1 passed" in completed.stdout, completed.stdout[-3000:]
