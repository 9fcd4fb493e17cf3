"""
The cross-cutting concerns of receiver runs, as steps the run loop applies
in order around each run: retries, counters, logging, the run log, metrics
and traces. The
loop (``engine.run``) only calls receivers and completes their futures; a
new concern (tracing, metrics) is a new ``Step`` in ``STEPS``, not an edit
of the loop.

The hooks of the steps in use are gathered once into ``pipeline`` (and again
when a setting that turns a step on or off changes), so that a run pays only
for the steps that do something.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import runlog
from ..config import changes
from ..config.settings import RECORD_KWARGS, RECORD_RUNS
from ..core import metrics, tracing
from ..core.counters import counters
from ..core.labels import receiver_label
from . import retries
from .log_fields import run_fields

if TYPE_CHECKING:
    from collections.abc import Callable

    from .delivery import Delivery

logger = logging.getLogger("eventx_signals")
# Django's own logger for send_robust() failures, kept informed so that tooling
# watching it still sees failures of deferred robust dispatches.
django_dispatch_logger = logging.getLogger("django.dispatch")


class Failure:
    """A failed attempt, as the failure hooks see it: ``retry_in`` is set by
    the retry step (None: no other attempt follows)."""

    __slots__ = ("delivery", "receiver", "alias", "started", "exc", "retry_in")

    def __init__(
        self, delivery: Delivery, receiver: Any, alias: str, started: float, exc: BaseException
    ) -> None:
        self.delivery = delivery
        self.receiver = receiver
        self.alias = alias
        self.started = started
        self.exc = exc
        self.retry_in: float | None = None


class Step:
    """
    One concern of receiver runs. Each hook is optional; ``started`` is a
    ``time.perf_counter()`` value, taken when the receiver was called.
    """

    def delivery_started(self, delivery: Delivery) -> None:
        """Before the receivers of a delivery run."""

    def run_started(self, delivery: Delivery, receiver: Any, alias: str) -> None:
        """Just before a receiver is called (in the thread that calls it)."""

    def run_succeeded(
        self, delivery: Delivery, receiver: Any, alias: str, started: float, result: Any
    ) -> None:
        """After a receiver returned."""

    def run_failed(self, failure: Failure) -> None:
        """After a receiver raised (anything)."""

    def delivery_finished(
        self, delivery: Delivery, finished: int, succeeded: int, failed: int
    ) -> None:
        """After the receivers of a delivery ran: ``finished`` runs ended
        (those with a retry ahead have not), ``succeeded`` and ``failed``
        of them."""


class Retries(Step):
    """Whether, and when, a failed run is tried again."""

    def run_failed(self, failure: Failure) -> None:
        try:
            failure.retry_in = retries.delay_before_retry(
                failure.receiver, failure.exc, failure.delivery.attempt
            )
        except Exception:  # a broken policy: no retry, the run still ends
            logger.exception("The retry policy of %s failed.", receiver_label(failure.receiver))


class Counters(Step):
    """``stats()``: runs started, retried and finished."""

    def delivery_started(self, delivery: Delivery) -> None:
        if delivery.attempt == 1:  # a retry continues a run already started
            runs = len(delivery.receivers)
            if runs == 1:
                counters.started.advance()
            else:
                counters.started.add(runs)

    def run_started(self, delivery: Delivery, receiver: Any, alias: str) -> None:
        if delivery.attempt == 1:
            counters.record_lag(time.time() - delivery.queued_at)

    def run_failed(self, failure: Failure) -> None:
        if failure.retry_in is not None:
            counters.record_retry()

    def delivery_finished(
        self, delivery: Delivery, finished: int, succeeded: int, failed: int
    ) -> None:
        counters.finished(finished, succeeded, failed)


class Logging(Step):
    """One INFO line per success, one ERROR line with traceback per failure,
    each with the run's fields as ``extra`` (``engine.log_fields``)."""

    def run_succeeded(
        self, delivery: Delivery, receiver: Any, alias: str, started: float, result: Any
    ) -> None:
        if logger.isEnabledFor(logging.INFO):
            fields = run_fields(delivery, receiver, alias)
            logger.info(
                "Receiver %s of %s (sender %s) finished in %.1f ms.",
                fields["eventx_receiver"],
                fields["eventx_signal"],
                fields["eventx_sender"],
                (time.perf_counter() - started) * 1000,
                extra=fields,
            )

    def run_failed(self, failure: Failure) -> None:
        delivery, receiver, exc, delay = (
            failure.delivery,
            failure.receiver,
            failure.exc,
            failure.retry_in,
        )
        policy = retries.policy_for(receiver)
        if delay is not None:
            outcome = (
                f" (attempt {delivery.attempt} of {policy.max_attempts}; retrying in {delay:g} s)"
            )
        elif policy.max_attempts > 1:
            outcome = f" (attempt {delivery.attempt} of {policy.max_attempts}; not retried)"
        else:
            outcome = ""
        fields = run_fields(delivery, receiver, failure.alias)
        logger.error(
            "Receiver %s of %s (sender %s) raised %s%s.",
            fields["eventx_receiver"],
            fields["eventx_signal"],
            fields["eventx_sender"],
            type(exc).__name__,
            outcome,
            exc_info=exc,
            extra=fields,
        )
        if delay is None and delivery.robust and isinstance(exc, Exception):
            log_robust_failure(receiver, exc)


class RunLog(Step):
    """One row of the run log per attempt (EVENTX_RECORD_RUNS)."""

    def run_succeeded(
        self, delivery: Delivery, receiver: Any, alias: str, started: float, result: Any
    ) -> None:
        self._record(delivery, receiver, alias, "succeeded", started, None)

    def run_failed(self, failure: Failure) -> None:
        status = "failed" if failure.retry_in is None else "retried"
        self._record(
            failure.delivery, failure.receiver, failure.alias, status, failure.started, failure.exc
        )

    @staticmethod
    def _record(
        delivery: Delivery,
        receiver: Any,
        alias: str,
        status: str,
        started: float,
        exc: BaseException | None,
    ) -> None:
        duration = time.perf_counter() - started
        runlog.record(delivery, receiver, alias, status, time.time() - duration, duration, exc)


class Metrics(Step):
    """OpenTelemetry metrics of runs (``core.metrics``): outcomes, durations
    and the queue lag."""

    def run_started(self, delivery: Delivery, receiver: Any, alias: str) -> None:
        if delivery.attempt == 1:
            metrics.record_lag(alias, receiver, delivery.queued_at)

    def run_succeeded(
        self, delivery: Delivery, receiver: Any, alias: str, started: float, result: Any
    ) -> None:
        metrics.record_attempt("succeeded", alias, receiver, time.perf_counter() - started)

    def run_failed(self, failure: Failure) -> None:
        outcome = "failed" if failure.retry_in is None else "retried"
        metrics.record_attempt(
            outcome, failure.alias, failure.receiver, time.perf_counter() - failure.started
        )


class Tracing(Step):
    """One OpenTelemetry CONSUMER span per attempt (``core.tracing``),
    current while the receiver runs; last, so that the other steps still
    see it."""

    def run_started(self, delivery: Delivery, receiver: Any, alias: str) -> None:
        tracing.start_run(delivery, receiver, alias)

    def run_succeeded(
        self, delivery: Delivery, receiver: Any, alias: str, started: float, result: Any
    ) -> None:
        tracing.end_run()

    def run_failed(self, failure: Failure) -> None:
        tracing.end_run(failure.exc, failure.retry_in)


def log_robust_failure(receiver: Any, exc: Exception) -> None:
    """Report a robust dispatch's failure the way Django's send_robust() does."""
    django_dispatch_logger.error(
        "Error calling %s in Signal.send_robust() (%s)",
        getattr(receiver, "__qualname__", receiver),
        exc,
        exc_info=exc,
    )


#: Every step, in the order the loop applies them; a step is in use unless
#: ``in_use`` below says otherwise.
STEPS: list[Step] = [Retries(), Counters(), Logging(), RunLog(), Metrics(), Tracing()]


def in_use(step: Step) -> bool:
    if isinstance(step, RunLog):
        return runlog.enabled
    if isinstance(step, Metrics):
        return metrics.installed
    if isinstance(step, Tracing):
        return tracing.installed
    return True


@dataclass
class Pipeline:
    """The hooks of the steps in use, gathered per kind, in order."""

    on_start: tuple[Callable[..., None], ...] = ()
    on_run_start: tuple[Callable[..., None], ...] = ()
    on_success: tuple[Callable[..., None], ...] = ()
    on_failure: tuple[Callable[..., None], ...] = ()
    on_finish: tuple[Callable[..., None], ...] = ()
    steps: list[Step] = field(default_factory=list)


def _hooks(steps: list[Step], name: str) -> tuple[Callable[..., None], ...]:
    return tuple(
        getattr(step, name)
        for step in steps
        if getattr(type(step), name) is not getattr(Step, name)
    )


def build() -> Pipeline:
    """Gather the hooks of the steps in use (see ``pipeline``)."""
    steps = [step for step in STEPS if in_use(step)]
    return Pipeline(
        _hooks(steps, "delivery_started"),
        _hooks(steps, "run_started"),
        _hooks(steps, "run_succeeded"),
        _hooks(steps, "run_failed"),
        _hooks(steps, "delivery_finished"),
        steps,
    )


#: What the run loop applies; rebuilt by ``refresh()``. At import, without
#: reading settings: the run log is off until the app's ready() reads them.
pipeline = build()


def refresh(setting: str = "") -> None:
    """Read the settings that turn steps on or off, and gather the hooks
    again (at start-up, and when such a setting changes)."""
    global pipeline
    runlog.refresh()
    pipeline = build()


changes.on_change(refresh, RECORD_RUNS.name, RECORD_RUNS.old_name, RECORD_KWARGS.name)
