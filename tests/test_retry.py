"""Retries on the in-process backends: EVENTX_RETRY, @retry, backoff that
does not hold a worker thread, and the attempt number."""

import logging
import threading

import pytest
from django.core import checks
from django.test import override_settings

from eventx_signals import AsyncSignal, stats
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.engine.retries import current_attempt, retry
from eventx_signals.testing import eager, wait_for_runs


class Flaky:
    """Fails ``failures`` times with ``error``, then returns the attempt."""

    def __init__(self, failures, error=ConnectionError):
        self.failures = failures
        self.error = error
        self.attempts = []
        self.threads = []

    def __call__(self, sender, **kwargs):
        self.attempts.append(current_attempt())
        self.threads.append(threading.current_thread().name)
        if len(self.attempts) <= self.failures:
            raise self.error(f"attempt {current_attempt()}")
        return current_attempt()


@pytest.fixture
def pool():
    backend = ThreadBackend(options={"workers": 1})
    yield backend
    backend.close(timeout=10)


def test_a_retry_waiting_for_its_backoff_does_not_hold_the_worker(pool):
    flaky = Flaky(failures=1)
    quick = threading.Event()
    signal = AsyncSignal(backend=pool)
    other = AsyncSignal(backend=pool)
    # A backoff no stall of the machine comes near: a worker held for it
    # could not run anything else within the test's deadlines.
    signal.connect(retry(max_attempts=2, backoff=600)(flaky_function(flaky)), weak=False)
    other.connect(lambda sender, **kwargs: quick.set(), weak=False)
    before = stats()
    [(_, future)] = signal.send(sender=None)
    while not flaky.attempts:
        assert not future.done()
        threading.Event().wait(0.01)
    other.send(sender=None)
    # The only worker is free during the backoff: the other receiver runs.
    assert quick.wait(30)
    assert not future.done()
    assert pool.close(timeout=10) == 0  # runs the retry still waiting
    assert future.result(0) == 2
    assert flaky.attempts == [1, 2]
    assert flaky.threads[1].startswith("eventx-")
    after = stats()
    assert after["retried"] - before["retried"] == 1
    assert after["failed"] - before["failed"] == 0
    assert after["succeeded"] - before["succeeded"] == 2
    assert after["dispatched"] - before["dispatched"] == 2


def flaky_function(flaky):
    """A plain function per test (the retry mark sits on the function)."""

    def receiver(sender, **kwargs):
        return flaky(sender, **kwargs)

    return receiver


def test_wait_for_runs_waits_for_retries(pool):
    flaky = Flaky(failures=2)
    signal = AsyncSignal(backend=pool)
    signal.connect(retry(max_attempts=3, backoff=0.1)(flaky_function(flaky)), weak=False)
    [(_, future)] = signal.send(sender=None)
    wait_for_runs(10)
    assert future.done() and future.result() == 3


def test_only_the_listed_exception_types_are_retried(pool):
    flaky = Flaky(failures=1, error=ValueError)
    signal = AsyncSignal(backend=pool)
    signal.connect(
        retry(max_attempts=5, backoff=0, retry_on=[ConnectionError])(flaky_function(flaky)),
        weak=False,
    )
    [(_, future)] = signal.send(sender=None)
    with pytest.raises(ValueError):
        future.result(5)
    assert flaky.attempts == [1]


def test_the_last_attempt_fails_the_future_and_says_so(pool, caplog):
    flaky = Flaky(failures=10)
    signal = AsyncSignal(backend=pool)
    signal.connect(retry(max_attempts=3, backoff=0)(flaky_function(flaky)), weak=False)
    [(_, future)] = signal.send(sender=None)
    with pytest.raises(ConnectionError, match="attempt 3"):
        future.result(5)
    assert flaky.attempts == [1, 2, 3]
    messages = [r.getMessage() for r in caplog.records if r.name == "eventx_signals"]
    assert sum("retrying in 0 s" in m for m in messages) == 2
    assert sum("attempt 3 of 3; not retried" in m for m in messages) == 1


def test_eventx_retry_is_the_default_policy(pool):
    flaky = Flaky(failures=2)
    signal = AsyncSignal(backend=pool)
    receiver = flaky_function(flaky)
    signal.connect(receiver, weak=False)
    with override_settings(EVENTX_RETRY={"max_attempts": 3, "backoff": 0}):
        [(_, future)] = signal.send(sender=None)
        assert future.result(5) == 3
    # Unset again: no retries.
    flaky.attempts.clear()
    flaky.failures = 1
    [(_, future)] = signal.send(sender=None)
    with pytest.raises(ConnectionError):
        future.result(5)


def test_the_decorator_overrides_the_setting(pool):
    flaky = Flaky(failures=1)
    signal = AsyncSignal(backend=pool)
    signal.connect(retry(max_attempts=1)(flaky_function(flaky)), weak=False)
    with override_settings(EVENTX_RETRY={"max_attempts": 3, "backoff": 0}):
        [(_, future)] = signal.send(sender=None)
        with pytest.raises(ConnectionError):
            future.result(5)
    assert flaky.attempts == [1]


def test_closing_the_backend_runs_retries_still_waiting_for_their_backoff():
    backend = ThreadBackend(options={"workers": 1})
    flaky = Flaky(failures=1)
    signal = AsyncSignal(backend=backend)
    signal.connect(retry(max_attempts=2, backoff=600)(flaky_function(flaky)), weak=False)
    [(_, future)] = signal.send(sender=None)
    while not flaky.attempts:
        threading.Event().wait(0.01)
    assert backend.close(timeout=10) == 0
    assert future.result(0) == 2


def test_immediate_backend_and_eager_retry_at_once(caplog):
    flaky = Flaky(failures=2)
    signal = AsyncSignal(backend="immediate")
    signal.connect(retry(max_attempts=3, backoff=600)(flaky_function(flaky)), weak=False)
    [(_, future)] = signal.send(sender=None)
    assert future.result(0) == 3
    flaky.attempts.clear()
    with eager():
        [(_, future)] = AsyncSignal.send(signal, sender=None)
    assert future.result(0) == 3 and flaky.attempts == [1, 2, 3]


@pytest.mark.parametrize(
    "value, fragment",
    [
        ({"max_attempts": 0}, "'max_attempts'"),
        ({"backoff": float("inf")}, "'backoff'"),
        ({"retry_on": ["no.such.Error"]}, "cannot be imported"),
        ({"retry_on": [int]}, "exception classes"),
        ({"attempts": 3}, "unknown key 'attempts'"),
        ([3], "must be a dict"),
    ],
)
def test_a_bad_eventx_retry_is_a_system_check_error(value, fragment):
    with override_settings(EVENTX_RETRY=value):
        errors = [e for e in checks.run_checks() if e.id == "eventx_signals.E014"]
    assert len(errors) == 1 and fragment in errors[0].msg


def test_the_decorator_rejects_bad_arguments_naming_them():
    with pytest.raises(ValueError, match="max_attempts"):
        retry(max_attempts=0)
    with pytest.raises(ValueError, match="max_backoff"):
        retry(max_attempts=2, max_backoff=-1)


@pytest.mark.parametrize("backend", ["immediate", "default"])
def test_a_policy_of_more_than_1024_attempts_ends_its_run(backend):
    """2 ** 1025 does not fit a float: the backoff of attempt 1,026 used to
    raise inside the failure path, leaving the run neither failed nor
    retried and its future pending; attempts made at once used to nest."""
    attempts = []

    @retry(max_attempts=1030, backoff=0, max_backoff=0)
    def always_fails(sender, **kwargs):
        attempts.append(current_attempt())
        raise ValueError("still failing")

    signal = AsyncSignal(backend=backend)
    signal.connect(always_fails, weak=False)
    logging.getLogger("eventx_signals").disabled = True  # 1,030 tracebacks
    try:
        [(_, future)] = signal.send(sender=None)
        with pytest.raises(ValueError, match="still failing"):
            future.result(60)
    finally:
        logging.getLogger("eventx_signals").disabled = False
    assert attempts == list(range(1, 1031))
