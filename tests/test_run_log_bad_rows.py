"""One bad run log row is dropped alone, never its batch: text a database
refuses is escaped before the row is buffered, and a batch the database still
refuses is written again in halves, so that only the refused rows are
dropped; a database that is away costs one INSERT per batch, as before."""

import pytest
from django.db import OperationalError, ProgrammingError
from django.test import override_settings

from eventx_signals import AsyncSignal, stats
from eventx_signals.backends.immediate import ImmediateBackend
from eventx_signals.models import ReceiverRun
from eventx_signals.runlog import rows, writer, writing
from eventx_signals.runlog.drops import drops

pytestmark = pytest.mark.django_db(transaction=True)

recording = override_settings(EVENTX_RECORD_RUNS=True)
RUNS = 500  # one batch


def fail_now_and_then(sender, n, **kwargs):
    if n == 250:
        raise ValueError("bad\x00byte in \udc80 a file name")
    return n


@pytest.fixture
def inline_signal():
    """Receivers run in the test's thread: each send buffers its row. The
    writer takes them in one batch or, on a slow machine, in a few (it also
    writes what is buffered every FLUSH_INTERVAL)."""
    # A backend, not the alias "immediate": a signal naming an alias lives on
    # until a garbage collection, and the system checks tests would see it.
    signal = AsyncSignal(backend=ImmediateBackend(), on_commit=False)
    signal.connect(fail_now_and_then, weak=False)
    writer.flush()
    drops.reset()
    return signal


@pytest.fixture
def inserts(monkeypatch):
    """The writer's INSERTs, each as its number of rows."""
    sizes = []
    original = ReceiverRun.objects.bulk_create

    def bulk_create(objs, *args, **kwargs):
        sizes.append(len(objs))
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(ReceiverRun.objects, "bulk_create", bulk_create)
    return sizes


def send_batch(signal):
    for n in range(RUNS):
        signal.send(sender=None, n=n)
    writer.flush()


@recording
def test_text_a_database_refuses_is_escaped_and_the_batch_written(inline_signal, inserts):
    before = stats()["run_log_dropped"]
    send_batch(inline_signal)
    assert ReceiverRun.objects.count() == RUNS
    failed = ReceiverRun.objects.get(status="failed")
    # A NUL (PostgreSQL refuses it in text) and a lone surrogate (no UTF-8).
    assert failed.error_message == "bad\\x00byte in \\udc80 a file name"
    assert "\\x00" in failed.traceback and "\x00" not in failed.traceback
    assert sum(inserts) == RUNS  # written in one go (or a few on a slow machine), not halved
    assert stats()["run_log_dropped"] == before


@recording
def test_a_row_the_database_refuses_is_dropped_alone(inline_signal, monkeypatch, inserts, caplog):
    build = rows.build

    def one_bad_row(delivery, *args):
        row = build(delivery, *args)
        if delivery.kwargs["n"] == 100:
            row["attempt"] = -1  # refused by the CHECK constraint of a PositiveIntegerField
        return row

    monkeypatch.setattr(rows, "build", one_bad_row)
    before = stats()["run_log_dropped"]
    send_batch(inline_signal)
    assert ReceiverRun.objects.count() == RUNS - 1
    assert stats()["run_log_dropped"] == before + 1
    # Halves down to the one row (about 2 x log2(500) INSERTs for its batch),
    # not one INSERT per row.
    assert sum(1 for size in inserts if size == 1) <= 2
    assert len(inserts) < 60
    [line] = [r for r in caplog.records if "the database refused" in r.getMessage()]
    assert line.levelname == "WARNING"
    assert line.getMessage().startswith("Dropped 1 receiver runs the database refused")
    assert "a run of tests.test_run_log_bad_rows.fail_now_and_then" in line.getMessage()
    assert "IntegrityError" in line.getMessage()


@recording
@pytest.mark.parametrize(
    "error", [OperationalError("the database went away"), ProgrammingError("no such table")]
)
def test_a_database_that_takes_no_row_costs_one_insert_per_batch(
    inline_signal, monkeypatch, error, caplog
):
    calls = []

    def refuse(objs, *args, **kwargs):
        calls.append(len(objs))
        raise error

    monkeypatch.setattr(ReceiverRun.objects, "bulk_create", refuse)
    before = stats()["run_log_dropped"]
    send_batch(inline_signal)
    assert sum(calls) == RUNS  # each row tried once: not one INSERT per row, nor per half
    assert stats()["run_log_dropped"] == before + RUNS
    [line] = [r for r in caplog.records if "Could not write" in r.getMessage()]
    assert line.getMessage().startswith(f"Could not write {RUNS} receiver runs to the run log")


@recording
def test_a_batch_whose_every_row_is_refused_costs_a_bounded_number_of_inserts(
    inline_signal, monkeypatch
):
    from django.db import IntegrityError

    calls = []

    def refuse(objs, *args, **kwargs):
        calls.append(len(objs))
        raise IntegrityError("CHECK constraint failed")

    monkeypatch.setattr(ReceiverRun.objects, "bulk_create", refuse)
    before = stats()["run_log_dropped"]
    send_batch(inline_signal)
    assert len(calls) == writing.MAX_FAILED_INSERTS
    assert stats()["run_log_dropped"] == before + RUNS
