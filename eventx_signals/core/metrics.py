"""
OpenTelemetry metrics of receiver runs (the ``otel`` extra), through the
metrics API: an SDK's meter provider and exporter (Prometheus, OTLP) set by
the project make them real.

- ``eventx.runs`` (counter, ``{run}``): runs by ``eventx.outcome``:
  ``succeeded``, ``failed``, ``retried`` (an attempt that failed and is
  tried again), ``dropped``, ``inline`` (run in the sending thread) and
  ``fallback`` (run on a thread of this process instead of a worker);
- ``eventx.run.duration`` (histogram, ``s``): each attempt;
- ``eventx.queue.lag`` (histogram, ``s``): from the send to the start of a
  run's first attempt;
- ``eventx.queue.depth`` and ``eventx.workers.busy`` (observable gauges):
  deliveries queued and workers running receivers, per backend alias of
  this process (backends that keep no queue here report none).

Every instrument has the attribute ``eventx.backend`` (the alias), and
those of runs ``eventx.receiver``. Without the API installed nothing is
imported; without a meter provider set, recording returns at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..internals import METER_PROVIDER as _slot
from .labels import receiver_label

try:
    from opentelemetry import metrics
    from opentelemetry.metrics import CallbackOptions, Observation
except ImportError:  # the otel extra is not installed
    metrics = None  # type: ignore[assignment]

INSTRUMENTATION = "eventx_signals"
#: Bucket boundaries, in seconds, advised for the histograms (the SDK's
#: default ones suit milliseconds): from a millisecond to five minutes.
SECONDS_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
)  # fmt: skip

#: Per backend alias of this process: (deliveries queued, workers busy).
QueueState = Callable[[], Iterable[tuple[str, int, int]]]
_queue_states: list[QueueState] = []

if metrics is not None:
    _meter = metrics.get_meter(INSTRUMENTATION)
    _runs = _meter.create_counter(
        "eventx.runs", unit="{run}", description="Receiver runs, by outcome."
    )
    _duration = _meter.create_histogram(
        "eventx.run.duration",
        unit="s",
        description="How long each attempt of a run took.",
        explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
    )
    _lag = _meter.create_histogram(
        "eventx.queue.lag",
        unit="s",
        description="From the send to the start of a run's first attempt.",
        explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
    )

    def _observe(field: int) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def callback(options: CallbackOptions) -> Iterable[Observation]:
            for states in list(_queue_states):
                for alias, queued, busy in states():
                    yield Observation(queued if field == 1 else busy, {"eventx.backend": alias})

        return callback

    _meter.create_observable_gauge(
        "eventx.queue.depth",
        callbacks=[_observe(1)],
        unit="{delivery}",
        description="Deliveries queued, waiting for a worker.",
    )
    _meter.create_observable_gauge(
        "eventx.workers.busy",
        callbacks=[_observe(2)],
        unit="{worker}",
        description="Workers running a receiver.",
    )


#: Whether the OpenTelemetry API is installed.
installed = metrics is not None


def observe_queues(states: QueueState) -> None:
    """Have the gauges read ``states()`` (the backends layer registers it)."""
    _queue_states.append(states)


def count_runs(outcome: str, alias: str, receivers: Sequence[Any]) -> None:
    """Count runs of ``receivers`` with ``outcome``."""
    if not _slot.is_set():
        return
    for receiver in receivers:
        _runs.add(
            1,
            {
                "eventx.outcome": outcome,
                "eventx.backend": alias,
                "eventx.receiver": receiver_label(receiver),
            },
        )


def record_attempt(outcome: str, alias: str, receiver: Any, duration: float) -> None:
    """One attempt of a run that ended with ``outcome``, and how long it took."""
    if not _slot.is_set():
        return
    attributes = {"eventx.backend": alias, "eventx.receiver": receiver_label(receiver)}
    _runs.add(1, {"eventx.outcome": outcome, **attributes})
    _duration.record(duration, attributes)


def record_lag(alias: str, receiver: Any, queued_at: float) -> None:
    """How long a run sent at ``queued_at`` (``time.time()``) waited, until
    the start of its first attempt, now."""
    if not _slot.is_set():
        return
    _lag.record(
        max(time.time() - queued_at, 0.0),
        {"eventx.backend": alias, "eventx.receiver": receiver_label(receiver)},
    )
