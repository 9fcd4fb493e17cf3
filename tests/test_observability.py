"""What ties a run to its dispatch without an SDK: the dispatch id, the
fields of log records, the queue lag in stats(); the OpenTelemetry tests in
a session of their own; and nothing of OpenTelemetry without the API."""

import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.test import override_settings

from eventx_signals import AsyncSignal, current_dispatch_id, retry, stats
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.engine.delivery import new_dispatch_id
from eventx_signals.models import ReceiverRun
from eventx_signals.runlog import writer
from eventx_signals.testing import wait_for_runs

ROOT = Path(__file__).resolve().parent.parent


def test_the_opentelemetry_tests_pass_in_a_session_of_their_own():
    # They set the process's global tracer and meter providers, for good.
    env = {**os.environ, "EVENTX_TEST_OTEL": "1", "EVENTX_TEST_DATABASE_SUFFIX": "_otel"}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/otel", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]
    assert "10 passed" in completed.stdout.splitlines()[-1], completed.stdout[-2000:]


ABSENT = """
import sys
sys.modules["opentelemetry"] = None  # as if the otel extra were not installed
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["eventx_signals"], EVENTX_RECORD_RUNS=False)
django.setup()
from eventx_signals import AsyncSignal, current_dispatch_id, stats
from eventx_signals.testing import wait_for_runs

signal = AsyncSignal()
seen = []
signal.connect(lambda sender, **kwargs: seen.append(current_dispatch_id()), weak=False)
[(_, future)] = signal.send(sender=None)
future.result(10)
wait_for_runs(10)
loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry") and sys.modules[name])
print(len(seen[0]), stats()["succeeded"], loaded)
"""


def test_without_the_opentelemetry_api_nothing_of_it_is_imported_and_runs_go_on():
    completed = subprocess.run(
        [sys.executable, "-c", ABSENT], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split(maxsplit=2) == ["32", "1", "[]\n"]


def test_every_run_and_attempt_of_one_send_shares_its_dispatch_id(signal):
    seen = []

    def first(sender, **kwargs):
        seen.append(("first", current_dispatch_id()))

    @retry(max_attempts=2, backoff=0)
    def second(sender, **kwargs):
        seen.append(("second", current_dispatch_id()))
        if len(seen) < 3:
            raise ConnectionError("once")

    signal.connect(first)
    signal.connect(second)
    signal.send(sender=None)
    wait_for_runs(10)
    signal.send(sender=None)
    wait_for_runs(10)
    ids = [dispatch for _, dispatch in seen]
    assert [name for name, _ in seen] == ["first", "second", "second", "first", "second"]
    assert len(set(ids[:3])) == 1 and len(ids[0]) == 32
    assert ids[3] == ids[4] != ids[0]
    assert current_dispatch_id() is None  # outside a run


def test_dispatch_ids_are_random_uuids_and_a_forked_child_makes_its_own():
    ids = {new_dispatch_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(hex=value).version == 4 for value in ids)
    assert all(uuid.UUID(hex=value).variant == uuid.RFC_4122 for value in ids)
    assert all(value == uuid.UUID(hex=value).hex for value in ids)  # 32 lower-case digits
    # A worker forked from a process (a Celery prefork child, a preloading
    # server's worker) must not repeat its parent's ids; forked in a
    # process of its own, which has no threads.
    completed = subprocess.run(
        [sys.executable, "-c", FORKED_IDS], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    child, parent = completed.stdout.split()
    assert len(child) == len(parent) == 32 and child != parent


FORKED_IDS = """
import os
from eventx_signals.engine.delivery import new_dispatch_id
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the child: its next id, then end at once
    os.write(write, new_dispatch_id().encode())
    os._exit(0)
os.close(write)
with os.fdopen(read) as pipe:
    child = pipe.read()
os.waitpid(pid, 0)
print(child, new_dispatch_id())  # and the parent's next one
"""


@pytest.mark.django_db(transaction=True)
@override_settings(EVENTX_RECORD_RUNS=True)
def test_the_run_log_stores_the_dispatch_id(signal):
    seen = []
    signal.connect(lambda sender, **kwargs: seen.append(current_dispatch_id()), weak=False)
    signal.send(sender=None)
    wait_for_runs(10)
    writer.flush()
    [row] = ReceiverRun.objects.all()
    assert row.dispatch_id == seen[0]
    assert row.trace_id == ""  # no tracer provider in this process


def test_log_records_of_a_run_carry_its_fields(signal, caplog):
    def declined(sender, **kwargs):
        raise ValueError("card declined")

    signal.connect(declined)
    with caplog.at_level(logging.INFO, logger="eventx_signals"):
        signal.send(sender=None)
        wait_for_runs(10)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.eventx_receiver.endswith("declined")
    assert record.eventx_signal == record.getMessage().split(" of ")[1].split(" (")[0]
    assert record.eventx_sender == "None"
    assert record.eventx_backend == "default"
    assert record.eventx_attempt == 1
    assert len(record.eventx_dispatch_id) == 32
    assert record.eventx_trace_id == ""


def test_stats_give_the_queue_lag_of_recent_runs():
    backend = ThreadBackend("lag", {"workers": 1})
    release, entered = threading.Event(), threading.Event()

    def hold(sender, **kwargs):
        entered.set()
        assert release.wait(10)

    holding, waiting = AsyncSignal(backend=backend), AsyncSignal(backend=backend)
    holding.connect(hold)
    waiting.connect(lambda sender, **kwargs: None, weak=False)
    try:
        holding.send(sender=None)
        assert entered.wait(10)
        for _ in range(1000):  # the whole window of stats()
            waiting.send(sender=None)
        sent = time.time()  # every run was sent before this
        time.sleep(0.2)  # the lag being measured: the queue waits this long at least
        held = time.time() - sent
        release.set()
        wait_for_runs(30)
    finally:
        release.set()
        backend.close(10)
    figures = stats()
    assert figures["lag_p50_ms"] >= held * 1000 - 0.001  # rounded to the microsecond
    assert figures["lag_p95_ms"] >= figures["lag_p50_ms"]


FLUSHED = """
import os, sys
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["eventx_signals"])
django.setup()
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from tests.otel_spans import JsonLinesSpanExporter
provider = TracerProvider()
# Spans wait a minute in the batch: only a flush can write them sooner.
provider.add_span_processor(
    BatchSpanProcessor(JsonLinesSpanExporter(sys.argv[1]), schedule_delay_millis=60_000)
)
trace.set_tracer_provider(provider)
from eventx_signals import AsyncSignal
from eventx_signals.core import process
signal = AsyncSignal()
signal.connect(lambda sender, **kwargs: None, weak=False)
signal.send(sender=None)
process.drain_all(10)  # what a Celery prefork child runs as it ends
os._exit(0)  # as billiard ends it: no atexit, no SDK shutdown
"""


def test_spans_still_batched_are_exported_when_a_child_ends_with_os_exit(tmp_path):
    span_file = tmp_path / "spans.jsonl"
    completed = subprocess.run(
        [sys.executable, "-c", FLUSHED, str(span_file)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    from tests.otel_spans import read_span_file

    assert sorted(r["kind"] for r in read_span_file(span_file)) == ["CONSUMER", "PRODUCER"]
