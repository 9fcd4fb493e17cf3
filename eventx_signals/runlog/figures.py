"""Per-receiver figures from the run log, for ``manage.py eventx stats``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from ..core.percentiles import nearest_rank
from .model import ReceiverRun


@dataclass(frozen=True)
class ReceiverFigures:
    receiver: str
    #: Runs by the outcome of their last attempt.
    runs: int
    failed: int
    #: Attempts made again after a failure.
    retries: int
    #: Durations of every attempt, in milliseconds.
    p50_ms: float
    p95_ms: float
    #: Queue lag of first attempts (from the send to the start), in
    #: milliseconds; None when no row says when it was sent.
    lag_p50_ms: float | None = None
    lag_p95_ms: float | None = None

    @property
    def failure_rate(self) -> float:
        return self.failed / self.runs if self.runs else 0.0


def per_receiver(hours: float) -> list[ReceiverFigures]:
    """Figures for every receiver with attempts in the last ``hours``, the
    most failing first."""
    since = timezone.now() - datetime.timedelta(hours=hours)
    attempts: dict[str, list[tuple[str, float]]] = {}
    lags: dict[str, list[float]] = {}
    rows = ReceiverRun.objects.filter(finished_at__gte=since).values_list(
        "receiver", "status", "duration_ms", "attempt", "queued_at", "started_at"
    )
    for receiver, status, duration, attempt, queued_at, started_at in rows.iterator(
        chunk_size=10_000
    ):
        attempts.setdefault(receiver, []).append((status, duration))
        if attempt == 1 and queued_at is not None:
            lag = (started_at - queued_at).total_seconds() * 1000
            lags.setdefault(receiver, []).append(max(lag, 0.0))
    figures = []
    for receiver, runs in attempts.items():
        durations = sorted(duration for _, duration in runs)
        waits = sorted(lags.get(receiver, ()))
        statuses = [status for status, _ in runs]
        failed = statuses.count("failed")
        finished = failed + statuses.count("succeeded")
        figures.append(
            ReceiverFigures(
                receiver=receiver,
                runs=finished,
                failed=failed,
                retries=statuses.count("retried"),
                p50_ms=nearest_rank(durations, 0.50),
                p95_ms=nearest_rank(durations, 0.95),
                lag_p50_ms=nearest_rank(waits, 0.50) if waits else None,
                lag_p95_ms=nearest_rank(waits, 0.95) if waits else None,
            )
        )
    return sorted(figures, key=lambda f: (-f.failure_rate, -f.runs, f.receiver))
