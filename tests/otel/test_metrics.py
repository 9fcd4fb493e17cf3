"""Metrics: runs by outcome, durations, the queue lag, and the gauges of the
thread backend's queue, as an OpenTelemetry metric reader sees them."""

import threading
import time

from eventx_signals import retry
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.core.labels import receiver_label
from eventx_signals.testing import wait_for_runs
from tests.otel.conftest import metric_points


def counts(receiver):
    """Runs of ``receiver`` by outcome, from the eventx.runs counter."""
    label = receiver_label(receiver)
    return {
        attributes["eventx.outcome"]: point.value
        for attributes, point in metric_points("eventx.runs")
        if attributes["eventx.receiver"] == label
    }


def histogram(name, receiver):
    label = receiver_label(receiver)
    [point] = [p for a, p in metric_points(name) if a["eventx.receiver"] == label]
    return point


def gauge(name, alias):
    """The values a gauge reads for the backend ``alias``."""
    return [p.value for a, p in metric_points(name) if a == {"eventx.backend": alias}]


def test_runs_are_counted_by_outcome_with_their_durations(signal):
    @retry(max_attempts=2, backoff=0)
    def flaky_metrics_receiver(sender, fail, **kwargs):
        if fail:
            raise ConnectionError("away")

    signal.connect(flaky_metrics_receiver)
    for fail in (False, False, True):
        signal.send(sender=None, fail=fail)
    wait_for_runs(10)
    # Two runs succeeded; the third failed twice: once retried, once for good.
    assert counts(flaky_metrics_receiver) == {"succeeded": 2, "retried": 1, "failed": 1}
    assert histogram("eventx.run.duration", flaky_metrics_receiver).count == 4
    assert histogram("eventx.queue.lag", flaky_metrics_receiver).count == 3  # first attempts


def test_the_queue_lag_is_how_long_runs_waited_for_a_worker():
    backend = ThreadBackend("lagging", {"workers": 1})
    release, entered = threading.Event(), threading.Event()

    def hold(sender, **kwargs):
        entered.set()
        assert release.wait(10)

    def lagging_receiver(sender, **kwargs):
        pass

    from eventx_signals import AsyncSignal

    holding, waiting = AsyncSignal(backend=backend), AsyncSignal(backend=backend)
    holding.connect(hold)
    waiting.connect(lagging_receiver)
    try:
        holding.send(sender=None)
        assert entered.wait(10)
        for _ in range(5):
            waiting.send(sender=None)
        sent = time.time()  # every run was sent before this
        # While the worker is held: five deliveries queued, one worker busy.
        assert gauge("eventx.queue.depth", "lagging") == [5]
        assert gauge("eventx.workers.busy", "lagging") == [1]
        time.sleep(0.2)  # the lag being measured: the queue waits this long at least
        held = time.time() - sent
        release.set()
        wait_for_runs(10)
        lag = histogram("eventx.queue.lag", lagging_receiver)
        assert lag.count == 5
        assert lag.min >= held >= 0.2
    finally:
        release.set()
        backend.close(10)


def test_drops_and_runs_in_the_sender_are_counted(signal):
    backend = ThreadBackend("tiny", {"workers": 1, "queue_size": 1, "when_full": "drop"})
    release, entered = threading.Event(), threading.Event()

    def hold_tiny(sender, **kwargs):
        entered.set()
        assert release.wait(10)

    def dropped_receiver(sender, **kwargs):
        pass

    from eventx_signals import AsyncSignal, keep_inline

    holding, bulk = AsyncSignal(backend=backend), AsyncSignal(backend=backend)
    holding.connect(hold_tiny)
    bulk.connect(dropped_receiver)
    inline_receiver = keep_inline(lambda sender, **kwargs: None)
    bulk.connect(inline_receiver, weak=False)
    try:
        holding.send(sender=None)
        assert entered.wait(10)  # the worker took the hold
        bulk.send(sender=None)  # queued: the queue is now full
        bulk.send(sender=None)  # dropped
    finally:
        release.set()
        wait_for_runs(10)
        backend.close(10)
    assert counts(dropped_receiver) == {"succeeded": 1, "dropped": 1}
    assert counts(inline_receiver)["inline"] == 2
