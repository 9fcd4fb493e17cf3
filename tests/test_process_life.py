"""Fork safety and draining at interpreter exit."""

import os
import signal as os_signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from eventx_signals import AsyncSignal
from eventx_signals.backends.thread import ThreadBackend

SCRIPT = Path(__file__).parent / "scripts" / "exit_drain.py"
ROOT = Path(__file__).resolve().parent.parent


def run_script(tmp_path, count, sleep, shutdown_timeout, env=None):
    output = tmp_path / "ran.txt"
    process = subprocess.run(
        [sys.executable, str(SCRIPT), str(output), str(count), str(sleep), str(shutdown_timeout)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    ran = output.read_text().split() if output.exists() else []
    return process, ran


def test_normal_exit_drains_all_pending_work(tmp_path):
    process, ran = run_script(tmp_path, count=100, sleep=0.01, shutdown_timeout=60)
    assert process.returncode == 0, process.stderr
    assert sorted(map(int, ran)) == list(range(100))
    assert "cannot schedule" not in process.stderr


def test_exit_after_timeout_logs_what_was_left(tmp_path):
    process, ran = run_script(tmp_path, count=100, sleep=0.2, shutdown_timeout=0.3)
    assert process.returncode == 0, process.stderr
    assert len(ran) < 100
    assert "receiver runs were not finished when the process exited" in process.stderr


@pytest.mark.parametrize("autoreloader", [True, False])
def test_a_runserver_child_warns_that_its_reloader_will_kill_it(tmp_path, autoreloader):
    env = {k: v for k, v in os.environ.items() if k != "RUN_MAIN"}
    if autoreloader:
        env["RUN_MAIN"] = "true"  # what runserver's autoreloader sets in the server process
    process, ran = run_script(tmp_path, count=20, sleep=0.01, shutdown_timeout=60, env=env)
    assert process.returncode == 0, process.stderr
    assert len(ran) == 20  # not killed here: it drains
    warned = "runserver's autoreloader is stopping" in process.stderr
    assert warned == autoreloader, process.stderr


def test_sigterm_initiated_shutdown_drains(tmp_path):
    output = tmp_path / "ran.txt"
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT.with_name("sigterm_drain.py")), str(output), "40", "0.02"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout.readline().strip() == "queued"
    process.send_signal(os_signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + os_signal.SIGTERM, stderr
    assert sorted(map(int, output.read_text().split())) == list(range(40))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_a_fresh_pool(gate):
    backend = ThreadBackend(options={"workers": 1})
    signal = AsyncSignal(backend=backend)
    read_end, write_end = os.pipe()

    def report(sender, name, **kwargs):
        os.write(write_end, f"{os.getpid()}:{name}\n".encode())

    blocker = AsyncSignal(backend=backend)
    blocker.connect(gate)
    signal.connect(report)
    # The parent's only worker is busy, and one dispatch waits in its queue.
    blocker.send(sender=None)
    assert gate.entered.wait(5)
    signal.send(sender=None, name="queued-in-parent")

    pid = os.fork()
    if pid == 0:  # child
        status = 1
        try:
            from eventx_signals.testing import wait_for_runs

            [(_, future)] = signal.send(sender=None, name="sent-in-child")
            future.result(10)
            wait_for_runs(10)
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    gate.open()
    backend.close(timeout=10)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        lines = reader.read().split()
    assert os.waitstatus_to_exitcode(status) == 0
    child_lines = [line.split(":")[1] for line in lines if line.startswith(f"{pid}:")]
    parent_lines = [line.split(":")[1] for line in lines if line.startswith(f"{os.getpid()}:")]
    # Nothing inherited ran twice: the child ran only its own dispatch.
    assert child_lines == ["sent-in-child"]
    assert parent_lines == ["queued-in-parent"]
    assert threading.current_thread() is threading.main_thread()


@pytest.mark.skipif(not hasattr(os_signal, "pthread_sigmask"), reason="needs pthread_sigmask")
def test_workers_leave_process_signals_to_the_main_thread(signal):
    def blocked_signals(sender, **kwargs):
        return os_signal.pthread_sigmask(os_signal.SIG_BLOCK, [])

    signal.connect(blocked_signals)
    [(_, future)] = signal.send(sender=None)
    worker_mask = future.result(5)
    assert {os_signal.SIGTERM, os_signal.SIGINT, os_signal.SIGHUP} <= worker_mask
    assert os_signal.SIGTERM not in os_signal.pthread_sigmask(os_signal.SIG_BLOCK, [])


def test_close_runs_what_no_worker_is_left_to_run(recorder):
    # As at interpreter shutdown on Python 3.12+, where no thread can be
    # started: the queue holds work and the pool has no worker.
    import time

    from eventx_signals.backends.thread import ThreadBackend
    from eventx_signals.core.counters import counters
    from eventx_signals.engine.delivery import Delivery

    pool = ThreadBackend("test", {"workers": 2, "queue_size": 10}).pool
    dispatches = [Delivery(None, "s", {}, [recorder], 1, False) for _ in range(3)]
    for dispatch in dispatches:
        counters.dispatched.add(1)
        pool._queue.put(dispatch)
    assert pool.shutdown(time.monotonic() + 10) == 0
    assert len(recorder.calls) == 3
    assert [d.futures[0].result(0) for d in dispatches] == [1, 2, 3]
