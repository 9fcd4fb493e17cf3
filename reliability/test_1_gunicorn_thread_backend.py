"""
Scenario 1: gunicorn (sync and gthread workers) on PostgreSQL with Django's
default CONN_MAX_AGE = 0. The view saves a Request; its post_save receiver,
made async by EVENTX_ASYNC_SIGNALS (default ThreadBackend, 4 worker threads
per process), sleeps 30 ms and writes a ReceiverRun. One request in ten goes
to a view that raises after saving, inside transaction.atomic(): it rolls
back, and its dispatch must be discarded. 2,000 requests, 16 clients. The
last 160 requests' receivers sleep 400 ms, so work is still queued when
gunicorn gets SIGTERM: its workers must drain it at exit.
"""

import time

import pytest
from harness import procs, services
from harness.load import request_plan, run_load, unexpected_answers

REQUESTS = 2000
CONCURRENCY = 16
WORKERS = 2
LIBRARY_THREADS = 4  # ThreadBackend's default "workers"
SLOW_TAIL = 160


@pytest.mark.limit(150)
@pytest.mark.parametrize("worker_class,threads", [("sync", 1), ("gthread", 4)])
def test_no_receiver_run_lost_or_leaked_and_connections_bounded(
    database, tmp_path, logdir, measured, worker_class, threads
):
    # Per worker process: each request thread holds at most one connection
    # (closed at the end of its request, CONN_MAX_AGE = 0); each library
    # worker thread keeps at most one (one database alias); +1 for the
    # process's main thread, which runs receivers itself once the pool is
    # shut down (the drain at exit), or for a closed connection whose backend
    # has not left pg_stat_activity yet. The master runs no Django code.
    bound = WORKERS * (threads + LIBRARY_THREADS + 1)
    plan = request_plan(worker_class, REQUESTS, slow_tail=SLOW_TAIL)
    env = procs.project_env(
        REL_BACKEND="thread", REL_RECEIVER="record", REL_RECEIVER_SLEEP="0.03", REL_LOG_DIR=logdir
    )
    server = procs.Gunicorn(
        env, tmp_path / "gunicorn.log", worker_class=worker_class, workers=WORKERS, threads=threads
    )
    with server, services.ActivitySampler() as sampler:
        server.wait_ready()
        started = time.monotonic()
        answers = run_load(server.port, plan.paths, concurrency=CONCURRENCY, time_limit=100)
        load_seconds = time.monotonic() - started
        pending_at_sigterm = len(services.committed_rids()) - sum(services.runs_per_rid().values())
        status = server.terminate(timeout=120)
        left = services.wait_idle(15)
    assert sampler.error is None, sampler.error

    wrong = unexpected_answers(answers, plan)
    assert not wrong, f"{len(wrong)} unexpected answers, e.g. {list(wrong.items())[:5]}"
    assert status == 0, server.log_tail()

    committed = services.committed_rids()
    runs = services.runs_per_rid()
    lost = sorted(committed - set(runs))
    leaked = sorted(set(runs) & plan.bad)
    duplicated = sorted(rid for rid, count in runs.items() if count > 1)
    measured.update(
        committed=len(committed),
        rolled_back=len(plan.bad),
        req_per_s=round(REQUESTS / load_seconds),
        pending_at_sigterm=pending_at_sigterm,
        lost=len(lost),
        leaked=len(leaked),
        duplicated=len(duplicated),
        pg_peak=sampler.peak,
        bound=bound,
        pg_after_shutdown=left,
        stop_s=round(server.stop_seconds, 1),
    )
    assert committed == plan.good  # the rolled-back saves left no row
    assert pending_at_sigterm > 0, "nothing was left to drain at SIGTERM: the test proves less"
    assert lost == [], f"{len(lost)} committed requests have no receiver run: {lost[:5]}"
    assert leaked == [], f"receivers ran for rolled-back requests: {leaked[:5]}"
    assert duplicated == [], f"receivers ran twice: {duplicated[:5]}"
    assert set(runs) <= committed
    assert sampler.peak <= bound, f"{sampler.peak} connections, bound {bound}"
    assert left == 0, f"{left} connections still open after gunicorn exited"
    problems = [r for r in procs.log_records(logdir) if r["level"] in ("WARNING", "ERROR")]
    assert problems == [], problems[:5]
