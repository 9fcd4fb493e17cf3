"""The thread backend: lazy pool, bounded queue, policies, no lingering references."""

import gc
import logging
import threading
import time
import weakref

import pytest

from eventx_signals import AsyncSignal, stats
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.exceptions import EventxConfigurationError
from eventx_signals.testing import wait_for_runs
from tests.workers import wait_until


def pool_threads(backend):
    prefix = f"{backend.pool.name}-worker-"
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


@pytest.fixture
def make_backend():
    backends = []

    def make(**options):
        backend = ThreadBackend(options=options)
        backend.pool.name = f"test-pool-{id(backend)}"
        backends.append(backend)
        return backend

    yield make
    for backend in backends:
        backend.close(timeout=10)


def filled(backend, gate, queued):
    """Block the only worker with ``gate`` and queue ``queued`` more dispatches."""
    blocker = AsyncSignal(backend=backend)
    blocker.connect(gate)
    blocker.send(sender=None)
    assert gate.entered.wait(5)
    noop = AsyncSignal(backend=backend)
    noop.connect(lambda sender, **kw: None, weak=False)
    return [noop.send(sender=None) for _ in range(queued)]


def test_workers_start_lazily(make_backend, recorder):
    backend = make_backend(workers=3)
    assert pool_threads(backend) == []
    signal = AsyncSignal(backend=backend)
    signal.connect(recorder)
    signal.send(sender=None)
    wait_for_runs(5)
    # The first worker starts the other two in the background, so that the
    # first send pays for one thread start only.
    deadline = time.monotonic() + 5
    while len(pool_threads(backend)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(pool_threads(backend)) == 3


def test_when_full_drop_cancels_and_logs(make_backend, gate, caplog, recorder):
    backend = make_backend(workers=1, queue_size=2, when_full="drop")
    filled(backend, gate, 2)
    signal = AsyncSignal(backend=backend)
    signal.connect(recorder)
    dropped_before = stats()["dropped"]
    with caplog.at_level(logging.ERROR, logger="eventx_signals"):
        [(_, future)] = signal.send(sender=None)
    assert future.cancelled()
    assert stats()["dropped"] == dropped_before + 1
    assert any("dropped 1 receiver runs" in r.getMessage() for r in caplog.records)
    gate.open()
    wait_for_runs(5)
    assert recorder.calls == []


def test_when_full_inline_runs_in_the_caller(make_backend, gate, recorder):
    backend = make_backend(workers=1, queue_size=1, when_full="inline")
    filled(backend, gate, 1)
    signal = AsyncSignal(backend=backend)
    signal.connect(recorder)
    [(_, future)] = signal.send(sender=None)
    assert future.done()
    assert recorder.threads == [threading.current_thread()]


def test_when_full_block_waits_for_room(make_backend, gate, recorder):
    backend = make_backend(
        workers=1, queue_size=1, when_full="block", block_timeout=10, max_extra_workers=0
    )
    filled(backend, gate, 1)
    signal = AsyncSignal(backend=backend)
    signal.connect(recorder)
    sent = threading.Event()

    def sender():
        signal.send(sender=None)
        sent.set()

    queue_full = stats()["queue_full"]
    thread = threading.Thread(target=sender)
    thread.start()
    # The sender met the full queue and waits there (block_timeout is 10 s).
    wait_until(lambda: stats()["queue_full"] > queue_full, 10, "the sender to meet the full queue")
    assert not sent.is_set() and thread.is_alive()
    gate.open()
    assert sent.wait(5)
    thread.join()
    wait_for_runs(5)
    assert recorder.threads and recorder.threads[0] is not thread


def test_when_full_block_times_out_then_runs_inline(make_backend, gate, recorder, caplog):
    backend = make_backend(
        workers=1, queue_size=1, when_full="block", block_timeout=0.05, max_extra_workers=0
    )
    filled(backend, gate, 1)
    signal = AsyncSignal(backend=backend)
    signal.connect(recorder)
    with caplog.at_level(logging.WARNING, logger="eventx_signals"):
        [(_, future)] = signal.send(sender=None)
    assert future.done()
    assert recorder.threads == [threading.current_thread()]
    assert any("has had a full queue for 0.05 seconds" in r.getMessage() for r in caplog.records)


def test_worker_sending_into_a_full_queue_does_not_deadlock(make_backend):
    backend = make_backend(workers=1, queue_size=1, when_full="block", block_timeout=30)
    inner = AsyncSignal(backend=backend)
    inner_ran = threading.Event()
    inner.connect(lambda sender, **kw: inner_ran.set(), weak=False)
    outer = AsyncSignal(backend=backend)

    def fan_out(sender, **kwargs):
        for _ in range(3):  # more than the queue holds
            inner.send(sender=None)

    outer.connect(fan_out)
    [(_, future)] = outer.send(sender=None)
    future.result(5)  # would time out if the worker blocked on its own queue
    wait_for_runs(5)
    assert inner_ran.is_set()


def test_closed_pool_runs_inline_instead_of_failing(make_backend, recorder, caplog):
    backend = make_backend(workers=1)
    backend.close(timeout=5)
    signal = AsyncSignal(backend=backend)
    signal.connect(recorder)
    with caplog.at_level(logging.WARNING, logger="eventx_signals"):
        [(_, future)] = signal.send(sender=None)
    assert future.result(0) == 1
    assert recorder.threads == [threading.current_thread()]
    assert any("shut down" in r.getMessage() for r in caplog.records)


def test_idle_worker_keeps_no_reference_to_finished_job(make_backend):
    backend = make_backend(workers=1)
    signal = AsyncSignal(backend=backend)

    class Sender:
        pass

    class Payload:
        pass

    sender, payload = Sender(), Payload()
    sender_ref, payload_ref = weakref.ref(sender), weakref.ref(payload)

    def handler(sender, **kwargs):
        return None

    signal.connect(handler)
    responses = signal.send(sender=sender, payload=payload)
    responses[0][1].result(5)
    wait_for_runs(5)
    del responses, sender, payload
    gc.collect()
    assert sender_ref() is None
    assert payload_ref() is None


def test_concurrent_senders_run_each_receiver_exactly_once():
    signal = AsyncSignal()
    lock = threading.Lock()
    counts = {}

    def count(sender, **kwargs):
        key = (kwargs["thread"], kwargs["n"])
        with lock:
            counts[key] = counts.get(key, 0) + 1

    signal.connect(count)
    before = stats()
    start = threading.Barrier(8)

    def send_many(thread_index):
        start.wait()
        for n in range(5_000):
            signal.send(sender=None, thread=thread_index, n=n)

    threads = [threading.Thread(target=send_many, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for_runs(60)
    assert len(counts) == 40_000
    assert set(counts.values()) == {1}
    after = stats()
    assert after["dispatched"] - before["dispatched"] == 40_000
    assert after["succeeded"] - before["succeeded"] == 40_000
    assert after["pending"] == after["running"] == 0


@pytest.mark.parametrize(
    "options, message",
    [
        ({"workers": 0}, "'workers' must be a positive integer"),
        ({"queue_size": "big"}, "'queue_size' must be a positive integer"),
        ({"when_full": "sometimes"}, "'when_full' must be one of"),
        ({"block_timeout": -1}, "'block_timeout' must be a finite number of seconds"),
        ({"threads": 2}, "Unknown option 'threads'"),
    ],
)
def test_bad_options_raise_configuration_error(options, message):
    with pytest.raises(EventxConfigurationError, match=message):
        ThreadBackend(options=options)
