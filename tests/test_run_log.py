"""The run log (EVENTX_RECORD_RUNS): one row per receiver attempt,
written off the receiver's thread and outside any caller's transaction."""

import datetime
import io
import logging

import pytest
from django.core import checks
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.test import override_settings
from django.utils import timezone

from eventx_signals import AsyncSignal, retry, stats
from eventx_signals.models import ReceiverRun
from eventx_signals.runlog import writer, writing
from eventx_signals.testing import wait_for_runs
from tests.testapp.models import Order, Receipt
from tests.testapp.signals import order_paid_tasks
from tests.workers import run_db_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

recording = override_settings(EVENTX_RECORD_RUNS=True)


def greet(sender, name, **kwargs):
    return f"hello {name}"


def explode(sender, **kwargs):
    raise ValueError("card declined for order 7")


attempts = []


@retry(max_attempts=2, backoff=0)
def flaky(sender, **kwargs):
    attempts.append(1)
    if len(attempts) == 1:
        raise ConnectionError("mail server away")


def recorded():
    writer.flush()
    return list(ReceiverRun.objects.order_by("receiver", "attempt"))


@recording
def test_every_attempt_is_a_row_with_its_outcome_and_timings(signal):
    attempts.clear()
    for receiver in (greet, explode, flaky):
        signal.connect(receiver)
    signal.send(sender=Order, name="ada", secret="card 4242")
    wait_for_runs(10)
    runs = recorded()
    assert [(r.receiver.rsplit(".", 1)[1], r.status, r.attempt) for r in runs] == [
        ("explode", "failed", 1),
        ("flaky", "retried", 1),
        ("flaky", "succeeded", 2),
        ("greet", "succeeded", 1),
    ]
    failed = runs[0]
    assert failed.error_type == "builtins.ValueError"
    assert failed.error_message == "card declined for order 7"
    assert "raise ValueError" in failed.traceback
    assert failed.sender == "testapp.Order" and failed.backend == "default"
    assert failed.queued_at <= failed.started_at <= failed.finished_at
    assert all(run.duration_ms >= 0 for run in runs)
    assert all(run.kwargs == "" for run in runs)  # not stored unless asked


def test_nothing_is_recorded_when_the_log_is_off(signal):
    signal.connect(greet)
    signal.send(sender=None, name="ada")
    wait_for_runs(10)
    assert recorded() == []


@override_settings(EVENTX_RECORD_RUNS=True, EVENTX_RECORD_KWARGS=True)
def test_keyword_arguments_are_stored_only_when_asked(signal):
    signal.connect(greet)
    signal.send(sender=None, name="x" * 5000)
    wait_for_runs(10)
    [run] = recorded()
    assert run.kwargs.startswith("{'name': 'xxx") and len(run.kwargs) == 2000


@recording
def test_a_run_inside_a_rolled_back_transaction_is_still_recorded():
    signal = AsyncSignal(backend="immediate", on_commit=False)
    signal.connect(greet, weak=False)
    with pytest.raises(RuntimeError), transaction.atomic():
        signal.send(sender=None, name="ada")  # runs here, inside the transaction
        raise RuntimeError("rolled back")
    # Written on the log's own connection, not inside the caller's transaction.
    assert [run.status for run in recorded()] == ["succeeded"]


@recording
def test_a_broken_database_never_breaks_the_receiver(signal, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(ReceiverRun.objects, "bulk_create", refuse)
    dropped = stats()["run_log_dropped"]
    signal.connect(greet)
    [(_, future)] = signal.send(sender=None, name="ada")
    assert future.result(5) == "hello ada"
    writer.flush()
    assert stats()["run_log_dropped"] == dropped + 1
    assert any("Could not write 1 receiver runs" in r.getMessage() for r in caplog.records)


def test_runs_in_a_django_tasks_worker_are_recorded_there():
    order_paid_tasks.send(sender=Order, order=Order.objects.create(number="L-1"), fail_first=1)
    for _ in range(30):  # the retry is deferred by its backoff
        run_db_worker_until_idle(EVENTX_TEST_RECORD_RUNS="1")
        if Receipt.objects.exists():
            break
    runs = list(ReceiverRun.objects.order_by("attempt"))
    assert [(r.status, r.attempt, r.backend) for r in runs] == [
        ("retried", 1, "tasks"),
        ("succeeded", 2, "tasks"),
    ]
    assert runs[0].signal == "tests.testapp.signals.order_paid_tasks"
    assert runs[0].error_type == "builtins.ConnectionError"


def make_run(receiver, status, duration, days_ago=0, attempt=1, lag_ms=None):
    finished = timezone.now() - datetime.timedelta(days=days_ago)
    queued = None if lag_ms is None else finished - datetime.timedelta(milliseconds=lag_ms)
    return ReceiverRun.objects.create(
        signal="shop.signals.order_paid",
        receiver=receiver,
        status=status,
        attempt=attempt,
        queued_at=queued,
        started_at=finished,
        finished_at=finished,
        duration_ms=duration,
    )


def test_prune_deletes_only_runs_older_than_the_retention():
    make_run("shop.a", "succeeded", 1, days_ago=20)
    make_run("shop.a", "succeeded", 1, days_ago=2)
    out = io.StringIO()
    call_command("eventx", "prune", stdout=out)  # default retention: 14 days
    assert "Deleted 1 receiver runs older than 14 days." in out.getvalue()
    with override_settings(EVENTX_RECORD_RETENTION_DAYS=1):
        call_command("eventx", "prune", stdout=out)
    assert ReceiverRun.objects.count() == 0


@recording
def test_stats_shows_runs_failure_rate_durations_lag_and_retries_per_receiver():
    for duration in range(1, 101):
        make_run("shop.send_receipt", "succeeded", float(duration), lag_ms=2 * duration)
    make_run("shop.charge", "retried", 10.0)
    # A retry waited for its backoff, not for the queue: no lag of its own.
    make_run("shop.charge", "failed", 20.0, attempt=2, lag_ms=60_000)
    make_run("shop.charge", "succeeded", 30.0)
    make_run("shop.old", "failed", 1.0, days_ago=3)  # outside the window
    out = io.StringIO()
    call_command("eventx", "stats", "--hours", "24", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Receiver runs in the last 24 hours, from the run log:"
    assert lines[1].split() == [
        "receiver",
        "runs",
        "failed",
        "failure",
        "rate",
        "p50",
        "ms",
        "p95",
        "ms",
        "lag",
        "p50",
        "ms",
        "lag",
        "p95",
        "ms",
        "retries",
    ]
    assert lines[2].split() == ["shop.charge", "2", "1", "50.0%", "20.0", "30.0", "-", "-", "1"]
    assert lines[3].split() == [
        "shop.send_receipt",
        "100",
        "0",
        "0.0%",
        "50.0",
        "95.0",
        "100.0",
        "190.0",
        "0",
    ]
    assert len(lines) == 4


def test_stats_without_the_run_log_says_why_there_is_nothing():
    out = io.StringIO()
    call_command("eventx", "stats", stdout=out)
    assert "The run log is off" in out.getvalue()
    assert "EVENTX_RECORD_RUNS = True" in out.getvalue()


@pytest.mark.parametrize(
    "setting, value, check_id",
    [
        ("EVENTX_RECORD_RUNS", "yes", "eventx_signals.E015"),
        ("EVENTX_RECORD_KWARGS", 1, "eventx_signals.E015"),
        ("EVENTX_RECORD_RETENTION_DAYS", 0, "eventx_signals.E016"),
        ("EVENTX_RECORD_RETENTION_DAYS", float("inf"), "eventx_signals.E016"),
    ],
)
def test_bad_run_log_settings_are_system_check_errors(setting, value, check_id):
    with override_settings(**{setting: value}):
        found = [m for m in checks.run_checks() if m.id.startswith("eventx_signals.E01")]
    assert [m.id for m in found] == [check_id]
    assert setting in found[0].msg


@pytest.fixture
def writer_waits_for_a_flush(monkeypatch):
    """The writer writes only when told to (or when a batch is full): a
    slow machine cannot split the rows of a test into more batches."""
    monkeypatch.setattr(writing, "FLUSH_INTERVAL", 3600.0)
    # Returns once the writer has gone round its loop: its next wait is
    # the long one.
    assert writer.close_connection()
    yield
    monkeypatch.undo()
    assert writer.close_connection()  # and the one after the test as usual


def test_the_log_is_written_in_batches_off_the_receivers_thread(
    signal, caplog, writer_waits_for_a_flush
):
    signal.connect(lambda sender, **kwargs: None, weak=False)
    caplog.set_level(logging.DEBUG, "django.db.backends")
    with recording, override_settings(DEBUG=True):
        for _ in range(50):
            signal.send(sender=None)
        wait_for_runs(10)
        writer.flush()
    inserts = [
        r
        for r in caplog.records
        if "INSERT" in r.getMessage() and "eventx_signals_receiverrun" in r.getMessage()
    ]
    assert ReceiverRun.objects.count() == 50
    assert len(inserts) == 1  # batched: one INSERT for the 50 runs
    assert all(r.threadName in ("eventx-run-log", "MainThread") for r in inserts)


def test_the_writer_keeps_its_connection_across_batches(signal):
    import threading

    from django.db.backends.signals import connection_created

    opened = []

    def count(sender, connection, **kwargs):
        if threading.current_thread().name == "eventx-run-log":
            opened.append(connection.alias)

    connection_created.connect(count)
    signal.connect(greet)
    try:
        with recording:
            for _ in range(3):  # three batches, each written and flushed
                signal.send(sender=None, name="ada")
                wait_for_runs(10)
                writer.flush()
    finally:
        connection_created.disconnect(count)
    assert ReceiverRun.objects.count() == 3
    assert len(opened) <= 1  # not one connection per batch (CONN_MAX_AGE = 0)
