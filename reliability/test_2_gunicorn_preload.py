"""
Scenario 2: gunicorn --preload. The app is imported once, in the master,
which then forks the workers. The master also dispatches 40 post_save
events while importing (relproj/wsgi.py, REL_PRELOAD_SENDS) whose receivers
wait at a gate (a FIFO, REL_PRELOAD_GATE) that the test opens once both
workers have answered, then sleep 400 ms, on 4 threads: at fork() its pool
is started and has them all queued or running, however slow the machine.
Each forked worker must start from a fresh, empty pool: the master's events
run once, in the master, never again in a child, and every event sent in a
worker runs exactly once, in that worker.
"""

import os

import pytest
from harness import procs, services
from harness.load import request_plan, run_load, unexpected_answers

PRELOAD_SENDS = 40
REQUESTS = 600


@pytest.mark.limit(90)
def test_events_run_exactly_once_with_preload(database, tmp_path, logdir, measured):
    plan = request_plan("preload-req", REQUESTS, fail_every=10)
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    env = procs.project_env(
        REL_BACKEND="thread",
        REL_RECEIVER="record",
        REL_RECEIVER_SLEEP="0.02",
        REL_PRELOAD_SENDS=PRELOAD_SENDS,
        REL_PRELOAD_GATE=gate,
        REL_LOG_DIR=logdir,
    )
    server = procs.Gunicorn(env, tmp_path / "gunicorn.log", worker_class="gthread", preload=True)
    with server:
        worker_pids = server.wait_ready()
        # The master's runs wait at the gate: none is done yet.
        at_fork = services.scalar("SELECT count(*) FROM relapp_receiverrun")
        # Opening the gate for writing lets them through, and those after
        # them as long as it stays open (O_RDWR, unlike O_WRONLY, does not
        # wait for a reader on Linux).
        opened = os.open(gate, os.O_RDWR)
        try:
            answers = run_load(server.port, plan.paths, concurrency=16, time_limit=60)
            status = server.terminate(timeout=120)
        finally:
            os.close(opened)
    master = str(server.pid)
    assert status == 0, server.log_tail()
    wrong = unexpected_answers(answers, plan)
    assert not wrong, list(wrong.items())[:5]

    rows = services.rows("SELECT rid, pid FROM relapp_receiverrun")
    per_rid: dict[str, list[str]] = {}
    for rid, pid in rows:
        per_rid.setdefault(rid, []).append(str(pid))
    preload = {rid: pids for rid, pids in per_rid.items() if rid.startswith("master-")}
    requests = {rid: pids for rid, pids in per_rid.items() if rid.startswith("preload-req")}
    committed = services.committed_rids()
    measured.update(
        master_runs_done_at_ready=at_fork,
        preload_events=len(preload),
        preload_runs=sum(len(p) for p in preload.values()),
        request_events=len(committed),
        request_runs=sum(len(p) for p in requests.values()),
        worker_pids=len({p for pids in requests.values() for p in pids}),
    )
    assert at_fork == 0, "a run of the master was done before the gate opened"
    # The master's events: each exactly once, by the master.
    assert sorted(preload) == [f"master-slow-{n:04d}" for n in range(PRELOAD_SENDS)]
    assert all(pids == [master] for pids in preload.values()), {
        rid: pids for rid, pids in preload.items() if pids != [master]
    }
    # The workers' events: each committed request exactly once, in a worker.
    assert committed == plan.good
    assert set(requests) == committed
    twice = {rid: pids for rid, pids in requests.items() if len(pids) != 1}
    assert not twice, list(twice.items())[:5]
    assert {pids[0] for pids in requests.values()} <= worker_pids
    problems = [r for r in procs.log_records(logdir) if r["level"] in ("WARNING", "ERROR")]
    assert problems == [], problems[:5]
