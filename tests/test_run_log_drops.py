"""Run log rows that are not kept: each is counted in stats()["run_log_dropped"]
and logged at WARNING (the first at once, then at most one line per 10 s per
reason, with the rows dropped since)."""

import contextlib
import threading
import time

import pytest
from django.test import override_settings

from eventx_signals import AsyncSignal, stats
from eventx_signals.backends.immediate import ImmediateBackend
from eventx_signals.models import ReceiverRun
from eventx_signals.runlog import rows, writer, writing
from eventx_signals.runlog.drops import drops

pytestmark = pytest.mark.django_db(transaction=True)

recording = override_settings(EVENTX_RECORD_RUNS=True)


def noop(sender, **kwargs):
    return None


@pytest.fixture
def inline_signal():
    """A signal whose receivers run in the test's thread at once: each send
    adds its row to the buffer before it returns."""
    # A backend, not the alias "immediate": a signal naming an alias lives on
    # until a garbage collection, and the system checks tests would see it.
    signal = AsyncSignal(backend=ImmediateBackend(), on_commit=False)
    signal.connect(noop, weak=False)
    writer.flush()  # nothing left over from earlier tests
    drops.reset()  # and no line of theirs delays ours
    return signal


@contextlib.contextmanager
def held_insert(monkeypatch):
    """The writer's INSERTs wait until the block ends; yields the event set
    once the first has begun."""
    begun, release = threading.Event(), threading.Event()
    original = ReceiverRun.objects.bulk_create

    def bulk_create(*args, **kwargs):
        begun.set()
        assert release.wait(10), "the test never released the INSERT"
        return original(*args, **kwargs)

    monkeypatch.setattr(ReceiverRun.objects, "bulk_create", bulk_create)
    try:
        yield begun
    finally:
        release.set()


def lines(caplog, text):
    return [r for r in caplog.records if text in r.getMessage()]


@override_settings(EVENTX_RECORD_RUNS=True, EVENTX_RECORD_KWARGS=True)
def test_a_full_buffer_drops_its_oldest_rows_counted_and_logged(inline_signal, monkeypatch, caplog):
    monkeypatch.setattr(writing, "BUFFER_LIMIT", 20)
    before = stats()["run_log_dropped"]
    with held_insert(monkeypatch) as begun:
        inline_signal.send(sender=None, n=0)
        assert begun.wait(5)  # the writer is inserting row 0
        for n in range(1, 31):  # 30 rows for 20 places
            inline_signal.send(sender=None, n=n)
        assert stats()["run_log_dropped"] == before + 10
    writer.flush()
    kept = sorted(int(text[6:-1]) for text in ReceiverRun.objects.values_list("kwargs", flat=True))
    assert kept == [0, *range(11, 31)]  # the oldest waiting were dropped
    first, rest = lines(caplog, "its buffer was full")
    assert first.levelname == rest.levelname == "WARNING"
    # The first at once; the other 9 within the interval, in one line.
    assert first.getMessage().startswith("Dropped 1 receiver runs from the run log")
    assert rest.getMessage().startswith("Dropped 9 receiver runs from the run log")
    assert f"This process dropped {before + 10} rows in all" in rest.getMessage()


@recording
def test_a_row_that_cannot_be_made_is_counted_and_logged(inline_signal, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("no row today")

    monkeypatch.setattr(rows, "build", broken)
    before = stats()["run_log_dropped"]
    [(_, future)] = inline_signal.send(sender=None)
    assert future.result(0) is None  # the receiver ran
    assert stats()["run_log_dropped"] == before + 1
    [line] = lines(caplog, "Could not record 1 receiver runs in the run log")
    assert line.levelname == "WARNING"
    assert "RuntimeError: no row today" in line.getMessage()


@recording
def test_rows_not_written_before_exit_are_counted_and_logged(inline_signal, monkeypatch, caplog):
    with held_insert(monkeypatch) as begun:
        inline_signal.send(sender=None)
        assert begun.wait(5)
        inline_signal.send(sender=None)
        inline_signal.send(sender=None)  # two rows wait behind the held INSERT
        before = stats()["run_log_dropped"]
        writer._flush_at_exit(time.monotonic())  # the exit drain, out of time
        assert stats()["run_log_dropped"] == before + 2
    [line] = lines(caplog, "2 receiver runs were not written to the run log before exit")
    assert line.levelname == "WARNING"
