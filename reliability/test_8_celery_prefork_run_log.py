"""
Scenario 8: the run log of a Celery prefork worker whose children are
recycled (``--max-tasks-per-child 5``). A prefork child ends with
``os._exit()``, so the process's normal exit drain (atexit) never runs
there; the rows its run log writer had not written yet must be written
before it goes (on Celery's ``worker_process_shutdown``), or they are lost.

100 post_save dispatches on the celery backend (acks_late, the suite's
settings), run by a worker with 2 children of 5 tasks each: about 20
children come and go. Every run must have its run log row, written by the
child that ran it, before the worker is stopped.
"""

import uuid
from collections import Counter

import pytest
from harness import procs, services

RUNS = 100
TASKS_PER_CHILD = 5


def run_log_rows() -> int:
    return services.scalar("SELECT count(*) FROM eventx_signals_receiverrun")


@pytest.mark.limit(120)
def test_prefork_children_write_their_run_log_rows_before_they_exit(
    database, broker, tmp_path, logdir, measured
):
    env = procs.project_env(
        REL_BACKEND="celery",
        REL_RECEIVER="record",
        REL_RECEIVER_SLEEP="0",
        REL_RECORD_RUNS="1",
        REL_LOG_DIR=logdir,
    )
    saved = procs.manage("save_requests", "--count", str(RUNS), "--prefix", "prefork", env=env)
    assert saved.returncode == 0, saved.stderr[-3000:]
    worker = procs.CeleryWorker(
        env,
        tmp_path / "celery.log",
        f"rel-prefork-{uuid.uuid4().hex[:6]}@localhost",
        pool="prefork",
        max_tasks_per_child=TASKS_PER_CHILD,
    )

    def rows_written() -> bool:
        measured["run_log_rows"] = run_log_rows()  # shown if the wait fails
        return measured["run_log_rows"] >= RUNS

    with worker:
        worker.wait_ready()
        procs.wait_until(
            lambda: services.scalar("SELECT count(*) FROM relapp_receiverrun") >= RUNS,
            60,
            f"{RUNS} receiver runs",
        )
        # While the worker is still up: a recycled child wrote its rows
        # before it exited (the last children's are written by their writer
        # thread within half a second).
        procs.wait_until(rows_written, 30, f"{RUNS} run log rows")
        assert worker.terminate(timeout=30) == 0, worker.log_tail()
    run_pids = Counter(pid for (pid,) in services.rows("SELECT pid FROM relapp_receiverrun"))
    row_pids = Counter(
        int(process.rsplit(":", 1)[1])
        for (process,) in services.rows("SELECT process FROM eventx_signals_receiverrun")
    )
    warnings = [r for r in procs.log_records(logdir) if r["level"] in ("WARNING", "ERROR")]
    measured.update(children=len(run_pids), run_log_rows=run_log_rows())
    assert max(run_pids.values()) <= TASKS_PER_CHILD
    assert len(run_pids) >= RUNS // TASKS_PER_CHILD  # the children were recycled
    assert row_pids == run_pids  # each run's row, written by the child that ran it
    assert not warnings, warnings[:3]
