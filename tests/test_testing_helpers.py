"""eager(), capture_dispatches() and the pytest fixtures."""

import threading

import pytest
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.test import TestCase

from eventx_signals import AsyncSignal, patched_signal, trigger_event
from eventx_signals.testing import capture_dispatches, eager
from tests.testapp.models import Order

audit_log = []


@receiver(post_save, sender=Order, dispatch_uid="tests.audit")
def audit(sender, instance, created, **kwargs):
    audit_log.append((instance.number, created, threading.current_thread()))


class EagerInAPlainTestCase(TestCase):
    """A plain TestCase: its transaction never commits, yet eager() shows
    the patched post_save receiver's effect right after save()."""

    def setUp(self):
        audit_log.clear()

    def test_context_manager(self):
        with patched_signal(post_save, senders=[Order]), eager():
            Order.objects.create(number="E-1")
            self.assertEqual(audit_log, [("E-1", True, threading.current_thread())])

    @eager()
    def test_decorator(self):
        with patched_signal(post_save, senders=[Order]):
            Order.objects.create(number="E-2")
        self.assertEqual([entry[:2] for entry in audit_log], [("E-2", True)])

    def test_without_eager_nothing_runs_before_commit(self):
        with patched_signal(post_save, senders=[Order]):
            Order.objects.create(number="E-3")
        self.assertEqual(audit_log, [])


captured_signal = AsyncSignal()


def test_capture_dispatches_records_name_sender_and_kwargs():
    captured_signal.connect(audit_nothing)
    with capture_dispatches() as events:
        captured_signal.send(sender="s", value=1)
        trigger_event("captured_event", user="ada")
    captured_signal.disconnect(audit_nothing)
    assert [(e.name, e.sender, e.kwargs) for e in events] == [
        ("tests.test_testing_helpers.captured_signal", "s", {"value": 1}),
        ("captured_event", None, {"user": "ada"}),
    ]
    assert events[0].signal is captured_signal
    with capture_dispatches() as later:
        pass
    assert later == []


def audit_nothing(sender, **kwargs):
    pass


def test_pytest_fixtures(eventx_eager, eventx_capture):
    signal = AsyncSignal()
    calls = []
    signal.connect(lambda sender, **kw: calls.append(threading.current_thread()), weak=False)
    signal.send(sender=None)
    assert calls == [threading.current_thread()]  # eager: inline, at once
    assert [dispatch.signal for dispatch in eventx_capture] == [signal]


def test_the_wait_fixture_waits_for_runs_in_the_background(eventx_wait):
    release = threading.Event()
    signal = AsyncSignal()
    signal.connect(lambda sender, **kwargs: release.wait(10), weak=False)
    [(_, future)] = signal.send(sender=None)
    with pytest.raises(TimeoutError, match="still running"):
        eventx_wait(0.05)  # the receiver waits for the release
    release.set()
    eventx_wait(10)
    assert future.done()


def test_eager_runs_inside_transaction_without_waiting_for_commit(db):
    with patched_signal(post_save, senders=[Order]), eager():
        audit_log.clear()
        Order.objects.create(number="E-4")
    assert [entry[:2] for entry in audit_log] == [("E-4", True)]
