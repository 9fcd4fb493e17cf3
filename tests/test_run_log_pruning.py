"""Pruning the run log deletes old rows in batches with SQL of its own: no
pre_delete or post_delete is sent, so a project's receivers of every sender's
post_delete (an audit log) never run for it, nor make Django load each row."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone

from eventx_signals.models import ReceiverRun
from eventx_signals.runlog import prune, pruning

pytestmark = pytest.mark.django_db(transaction=True)


def make_runs(count, days_ago):
    finished = timezone.now() - datetime.timedelta(days=days_ago)
    ReceiverRun.objects.bulk_create(
        ReceiverRun(
            signal="shop.signals.order_paid",
            receiver=f"shop.receivers.r{n}",
            status="succeeded",
            started_at=finished,
            finished_at=finished,
            duration_ms=1.0,
        )
        for n in range(count)
    )
    return set(ReceiverRun.objects.filter(finished_at=finished).values_list("pk", flat=True))


@pytest.fixture
def deletions():
    """Every pre_delete and post_delete sent, whatever the sender."""
    sent = []

    def audit(signal, sender, **kwargs):
        sent.append((signal, sender))

    pre_delete.connect(audit)
    post_delete.connect(audit)
    yield sent
    pre_delete.disconnect(audit)
    post_delete.disconnect(audit)


def test_prune_sends_no_delete_signal_and_deletes_only_old_rows(deletions, monkeypatch):
    monkeypatch.setattr(pruning, "PRUNE_BATCH", 5)  # 12 old rows: batches of 5, 5 and 2
    make_runs(10, days_ago=20)
    kept = make_runs(4, days_ago=2)
    make_runs(2, days_ago=9)
    assert prune(7.5) == 12
    assert deletions == []
    assert set(ReceiverRun.objects.values_list("pk", flat=True)) == kept


def test_the_prune_command_sends_no_delete_signal(deletions):
    make_runs(3, days_ago=20)
    recent = make_runs(1, days_ago=1)
    out = io.StringIO()
    call_command("eventx", "prune", stdout=out)  # default retention: 14 days
    assert "Deleted 3 receiver runs older than 14 days." in out.getvalue()
    assert deletions == []
    assert set(ReceiverRun.objects.values_list("pk", flat=True)) == recent
