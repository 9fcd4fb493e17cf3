import os
import threading

import pytest

from eventx_signals import AsyncSignal
from eventx_signals.testing import wait_for_runs

# The OpenTelemetry tests set the process's global tracer and meter
# providers, for good: they run in a pytest of their own
# (tests/test_observability.py starts it).
collect_ignore = [] if os.environ.get("EVENTX_TEST_OTEL") else ["otel"]


@pytest.fixture(autouse=True)
def _no_work_leaks_between_tests():
    yield
    wait_for_runs(timeout=30)


@pytest.fixture
def signal():
    return AsyncSignal()


class Gate:
    """A receiver that blocks its worker until the test opens the gate."""

    def __init__(self):
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self, sender, **kwargs):
        self.entered.set()
        assert self.opened.wait(10), "gate never opened"

    def open(self):
        self.opened.set()


@pytest.fixture
def gate():
    gate = Gate()
    yield gate
    gate.open()


class Recorder:
    """A receiver that records its calls, thread-safely."""

    def __init__(self):
        self.calls = []
        self.threads = []
        self._lock = threading.Lock()

    def __call__(self, sender, **kwargs):
        with self._lock:
            self.calls.append((sender, kwargs))
            self.threads.append(threading.current_thread())
        return len(self.calls)


@pytest.fixture
def recorder():
    return Recorder()
