"""EVENTX_ON_COMMIT: dispatches inside atomic() wait for commit, vanish on rollback."""

import pytest
from django.db import connection, transaction
from django.test import override_settings

from eventx_signals import AsyncSignal
from eventx_signals.testing import wait_for_runs
from tests.testapp.models import Order

IMMEDIATE = {"default": {"BACKEND": "eventx_signals.backends.immediate.ImmediateBackend"}}

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def test_receiver_reads_the_committed_row(signal):
    found = []

    def read_back(sender, instance, **kwargs):
        found.append(Order.objects.filter(pk=instance.pk).exists())

    signal.connect(read_back)
    with transaction.atomic():
        order = Order.objects.create(number="A-1")
        [(_, future)] = signal.send(sender=Order, instance=order)
        assert not future.done()
    assert future.result(10) is None
    assert found == [True]


def test_dispatch_waits_for_commit(signal, recorder):
    signal.connect(recorder)
    with transaction.atomic():
        signal.send(sender=None)
        wait_for_runs(5)  # nothing to wait for yet: not dispatched
        assert recorder.calls == []
    wait_for_runs(5)
    assert len(recorder.calls) == 1


def test_rollback_discards_and_cancels(signal, recorder):
    signal.connect(recorder)
    with pytest.raises(RuntimeError), transaction.atomic():
        Order.objects.create(number="A-2")
        [(_, future)] = signal.send(sender=None)
        raise RuntimeError("roll back")
    assert future.cancelled()
    wait_for_runs(5)
    assert recorder.calls == []


def test_savepoint_rollback_discards_only_the_inner_dispatch(signal, recorder):
    signal.connect(recorder)
    with transaction.atomic():
        [(_, outer)] = signal.send(sender="outer")
        try:
            with transaction.atomic():
                [(_, inner)] = signal.send(sender="inner")
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        assert inner.cancelled()
    outer.result(10)
    wait_for_runs(5)
    assert [sender for sender, _ in recorder.calls] == ["outer"]


def test_waits_on_the_alias_named_by_using(signal, recorder):
    signal.connect(recorder)
    with transaction.atomic(using="other"):
        signal.send(sender=None, using="other")
        signal.send(sender=None)  # default alias: not in a transaction
        wait_for_runs(5)
        assert len(recorder.calls) == 1
    wait_for_runs(5)
    assert len(recorder.calls) == 2


def test_per_signal_on_commit_false_runs_at_once(recorder):
    signal = AsyncSignal(on_commit=False)
    signal.connect(recorder)
    with transaction.atomic():
        [(_, future)] = signal.send(sender=None)
        future.result(10)
    assert len(recorder.calls) == 1


@override_settings(EVENTX_ON_COMMIT=False)
def test_setting_off_runs_at_once(signal, recorder):
    signal.connect(recorder)
    with transaction.atomic():
        [(_, future)] = signal.send(sender=None)
        future.result(10)
    assert len(recorder.calls) == 1


@override_settings(EVENTX_BACKENDS=IMMEDIATE)
def test_immediate_backend_inside_transaction_keeps_the_callers_connection(recorder):
    signal = AsyncSignal(on_commit=False)

    def query(sender, **kwargs):
        return Order.objects.count()

    signal.connect(query)
    with pytest.raises(RuntimeError), transaction.atomic():
        Order.objects.create(number="B-1")
        [(_, future)] = signal.send(sender=None)
        # Inline, inside the caller's transaction: it sees the new row.
        assert future.result(0) == 1
        assert connection.in_atomic_block
        assert connection.connection is not None
        raise RuntimeError("roll back")
    assert Order.objects.count() == 0
