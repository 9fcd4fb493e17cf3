import logging

from eventx_signals import AsyncSignal, stats
from eventx_signals.testing import wait_for_runs

module_signal = AsyncSignal()


def succeed(sender, **kwargs):
    return "ok"


def fail(sender, **kwargs):
    raise ZeroDivisionError("bad math")


def test_one_record_per_run_naming_signal_sender_and_receiver(caplog):
    module_signal.connect(succeed)
    module_signal.connect(fail)
    try:
        with caplog.at_level(logging.INFO, logger="eventx_signals"):
            module_signal.send(sender=int, password="hunter2")
            wait_for_runs(5)
    finally:
        module_signal.disconnect(succeed)
        module_signal.disconnect(fail)
    records = [r for r in caplog.records if r.name == "eventx_signals"]
    assert [r.levelname for r in records] == ["INFO", "ERROR"]
    info, error = (r.getMessage() for r in records)
    assert "tests.test_logging_and_stats.succeed" in info
    assert "tests.test_logging_and_stats.module_signal" in info
    assert "builtins.int" in info
    assert " ms" in info
    assert "tests.test_logging_and_stats.fail" in error
    assert "ZeroDivisionError" in error
    assert records[1].exc_info[0] is ZeroDivisionError
    assert all("hunter2" not in r.getMessage() for r in caplog.records)


def test_failure_does_not_stop_the_next_receiver(signal, recorder):
    signal.connect(fail)
    signal.connect(recorder)
    signal.send(sender=None)
    wait_for_runs(5)
    assert len(recorder.calls) == 1


def test_stats_count_runs(signal):
    signal.connect(succeed)
    signal.connect(fail)
    before = stats()
    for _ in range(3):
        signal.send(sender=None)
    wait_for_runs(5)
    after = stats()
    assert set(after) == {
        "dispatched",
        "succeeded",
        "failed",
        "retried",
        "inline",
        "queue_full",
        "fallback",
        "dropped",
        "pending",
        "running",
        "run_log_dropped",
        "lag_p50_ms",
        "lag_p95_ms",
    }
    assert after["dispatched"] - before["dispatched"] == 6
    assert after["succeeded"] - before["succeeded"] == 3
    assert after["failed"] - before["failed"] == 3
    assert after["pending"] == 0 and after["running"] == 0


def test_stats_show_pending_and_running(gate):
    from eventx_signals.backends.thread import ThreadBackend

    backend = ThreadBackend(options={"workers": 1})
    one_worker = AsyncSignal(backend=backend)
    one_worker.connect(gate)
    one_worker.connect(succeed)
    one_worker.send(sender=None)
    assert gate.entered.wait(5)
    one_worker.send(sender=None)
    current = stats()
    assert current["running"] == 2  # both receivers of the running dispatch
    assert current["pending"] == 2
    gate.open()
    wait_for_runs(5)
    backend.close(timeout=5)
