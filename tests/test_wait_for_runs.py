import pytest

from eventx_signals.testing import wait_for_runs


def test_waits_for_everything_dispatched(signal, recorder):
    signal.connect(recorder)
    for _ in range(50):
        signal.send(sender=None)
    wait_for_runs(10)
    assert len(recorder.calls) == 50


def test_timeout_names_pending_runs(signal, gate):
    signal.connect(gate)
    signal.send(sender=None)
    assert gate.entered.wait(5)
    with pytest.raises(TimeoutError, match=r"1 still running"):
        wait_for_runs(0.05)
    gate.open()


def test_refuses_to_run_on_a_worker(signal):
    def waits(sender, **kwargs):
        wait_for_runs(1)

    signal.connect(waits)
    [(_, future)] = signal.send(sender=None)
    with pytest.raises(RuntimeError, match="wait for itself"):
        future.result(5)
