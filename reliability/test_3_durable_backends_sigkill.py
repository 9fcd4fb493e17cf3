"""
Scenario 3: the same load shape (500 requests, 16 clients, one in ten
rolled back) with the post_save receiver on an out-of-process backend, whose
worker is killed with SIGKILL in the middle of the run and restarted.

django_tasks (django-tasks-db, two db_worker processes): a db_worker killed
while it runs a task leaves that task RUNNING for ever; ``manage.py eventx
requeue --worker-id`` makes it READY again before the worker is restarted.

celery (Redis broker, db 6): a worker killed with SIGKILL leaves the
messages it had taken unacknowledged; see reliability/README.rst for the
settings that make Redis deliver them again (task_acks_late, a short
visibility_timeout, kombu's restore sweep every second). One gap no setting
closes: kombu takes a message off the list (BRPOP) and records it as
unacknowledged in a second round trip, so a kill between the two loses that
one message for good (celery/kombu#305); the test tells such a message
(found nowhere in Redis, at most one) from one left unacknowledged and never
restored (a configuration problem), and allows only the former.

Either way: every committed request's receiver runs at least once (a run
interrupted after its write may run twice: at least once, as documented),
none for a rolled-back request.
"""

import os
import re
import signal
import time
import uuid

import pytest
from harness import procs, services
from harness.load import BackgroundLoad, request_plan, unexpected_answers

REQUESTS = 500
TASKS_TABLE = "django_tasks_database_dbtaskresult"


def run_count() -> int:
    return services.scalar("SELECT count(*) FROM relapp_receiverrun")


RUNNING_CLAIMED_BY = (
    f"SELECT count(*) FROM {TASKS_TABLE} WHERE status = 'RUNNING' AND worker_ids->>-1 = %s"
)


SESSIONS = (
    "SELECT client_port, state, wait_event_type, wait_event, query FROM pg_stat_activity"
    " WHERE application_name = %s"
)


def running_claimed_by(worker_id: str) -> int:
    return services.scalar(RUNNING_CLAIMED_BY, (worker_id,))


def kill_while_running(worker, timeout: float) -> int:
    """SIGKILL ``worker`` while a task it claimed is RUNNING. Seeing the row
    RUNNING and killing are two steps, and on a loaded machine the task may
    finish between them: so the worker is frozen (SIGSTOP) first, the row
    looked at again, and the worker killed only if the task is still
    running, else let go (SIGCONT) to try the next one. What the worker sent
    just before it froze (the commit that finishes the task, say) may still
    be on its way, for as long as the machine stalls: the row is looked at
    once PostgreSQL has run all of it (services.caught_up). Returns how many
    times the worker was frozen."""
    deadline = time.monotonic() + timeout
    freezes = 0
    with services.connect() as conn:

        def running() -> bool:
            return conn.execute(RUNNING_CLAIMED_BY, (worker.worker_id,)).fetchone()[0] > 0

        while True:
            left = max(0.1, deadline - time.monotonic())
            procs.wait_until(running, left, f"{worker.worker_id} to run a task", 0.001)
            os.killpg(worker.pid, signal.SIGSTOP)
            freezes += 1
            if not wait_quietly(lambda: services.caught_up(conn, worker.worker_id), 30, 0.005):
                sessions = conn.execute(SESSIONS, (worker.worker_id,)).fetchall()
                raise AssertionError(
                    f"PostgreSQL did not run what {worker.worker_id} sent before it froze "
                    f"within 30 s; its sessions: {sessions}"
                )
            if running():
                worker.kill()
                return freezes
            os.killpg(worker.pid, signal.SIGCONT)


def task_statuses() -> dict[str, int]:
    return dict(services.rows(f"SELECT status, count(*) FROM {TASKS_TABLE} GROUP BY status"))


def every_committed_request_ran() -> bool:
    return not services.committed_rids() - set(services.runs_per_rid())


def wait_quietly(predicate, timeout: float, interval: float = 0.2) -> bool:
    try:
        procs.wait_until(predicate, timeout, "", interval)
    except AssertionError:
        return False
    return True


def where_in_redis(broker, rid: str) -> str:
    """Where the message of ``rid``'s receiver run is: queued, unacked, or
    nowhere (taken off the list by a worker that died before recording it)."""
    needle = rid.encode()
    if any(needle in item for item in broker.lrange(procs.CeleryWorker.QUEUE, 0, -1)):
        return "queued"
    if any(needle in value for value in broker.hvals("unacked")):
        return "unacked"
    return "nowhere"


def outcome(plan, answers, measured, allowed_lost=frozenset()):
    wrong = unexpected_answers(answers, plan)
    assert not wrong, f"{len(wrong)} unexpected answers: {list(wrong.items())[:5]}"
    committed = services.committed_rids()
    runs = services.runs_per_rid()
    lost = sorted(committed - set(runs) - set(allowed_lost))
    leaked = sorted(set(runs) & plan.bad)
    measured.update(
        committed=len(committed),
        lost=len(lost),
        leaked=len(leaked),
        ran_twice=sum(1 for count in runs.values() if count > 1),
    )
    assert committed == plan.good
    assert lost == [], f"{len(lost)} committed requests never had their receiver run: {lost[:5]}"
    assert leaked == [], leaked[:5]


@pytest.mark.limit(150)
def test_django_tasks_db_worker_sigkilled_requeued_and_restarted(
    database, tmp_path, logdir, measured
):
    plan = request_plan("tasks", REQUESTS)
    env = procs.project_env(
        REL_BACKEND="tasks", REL_RECEIVER="record", REL_RECEIVER_SLEEP="0.05", REL_LOG_DIR=logdir
    )
    first = procs.DbWorker(env, tmp_path / "w1.log", "rel-w1")
    other = procs.DbWorker(env, tmp_path / "w2.log", "rel-w2")
    restarted = procs.DbWorker(env, tmp_path / "w1-restarted.log", "rel-w1-restarted")
    server = procs.Gunicorn(env, tmp_path / "gunicorn.log", worker_class="gthread")
    with first, other, server:
        server.wait_ready()
        load = BackgroundLoad(server.port, plan.paths, concurrency=16, time_limit=90).start()
        procs.wait_until(lambda: run_count() >= 40, 60, "the db_workers to get going")
        with services.connect() as conn:  # its sessions are found by name
            procs.wait_until(lambda: services.sessions(conn, "rel-w1"), 30, "a rel-w1 session")
        # SIGKILL rel-w1 while it is running a receiver; requeue once its
        # sessions have ended, as docs/howto/deploys.rst says.
        freezes = kill_while_running(first, 30)
        with services.connect() as conn:
            procs.wait_until(
                lambda: not services.sessions(conn, "rel-w1"), 30, "rel-w1's sessions to end"
            )
        runs_at_kill = run_count()
        abandoned = running_claimed_by("rel-w1")
        requeue = procs.manage("eventx", "requeue", "--worker-id", "rel-w1", env=env, timeout=60)
        assert requeue.returncode == 0, requeue.stderr[-3000:]
        requeued = int(re.search(r"Requeued (\d+) receiver runs", requeue.stdout).group(1))
        with restarted:
            answers = load.join(90)
            assert server.terminate(timeout=120) == 0, server.log_tail()
            procs.wait_until(
                lambda: (
                    every_committed_request_ran()
                    and not ({"READY", "RUNNING"} & set(task_statuses()))
                ),
                90,
                "every committed request's task to run",
                0.2,
            )
            assert other.alive() and restarted.alive()
    statuses = task_statuses()
    measured.update(
        freezes=freezes,
        runs_at_kill=runs_at_kill,
        abandoned_running=abandoned,
        requeued=requeued,
        tasks=statuses,
    )
    assert abandoned >= 1, "the kill did not interrupt a task: the test proves less"
    assert requeued == abandoned
    outcome(plan, answers, measured)
    # One task per committed request (none for the rolled-back ones), all done.
    assert statuses == {"SUCCESSFUL": len(plan.good)}, statuses


@pytest.mark.limit(150)
def test_celery_worker_sigkilled_and_restarted(database, broker, tmp_path, logdir, measured):
    plan = request_plan("celery", REQUESTS)
    env = procs.project_env(
        REL_BACKEND="celery", REL_RECEIVER="record", REL_RECEIVER_SLEEP="0.02", REL_LOG_DIR=logdir
    )
    suffix = uuid.uuid4().hex[:6]
    first = procs.CeleryWorker(env, tmp_path / "celery1.log", f"rel-first-{suffix}@localhost")
    restarted = procs.CeleryWorker(
        env, tmp_path / "celery2.log", f"rel-restarted-{suffix}@localhost"
    )
    server = procs.Gunicorn(env, tmp_path / "gunicorn.log", worker_class="gthread")
    with first, server:
        first.wait_ready()
        server.wait_ready()
        load = BackgroundLoad(server.port, plan.paths, concurrency=16, time_limit=90).start()
        procs.wait_until(lambda: run_count() >= 40, 60, "the celery worker to get going")
        # Killed while both pool slots hold a message it took (recorded in
        # "unacked") and more wait in the queue.
        procs.wait_until(
            lambda: broker.llen(procs.CeleryWorker.QUEUE) >= 10 and broker.hlen("unacked") >= 2,
            30,
            "a backlog and two messages in hand",
            0.001,
        )
        first.kill()
        runs_at_kill = run_count()
        unacked_at_kill = broker.hlen("unacked")
        queued_at_kill = broker.llen(procs.CeleryWorker.QUEUE)
        with restarted:
            restarted.wait_ready()
            answers = load.join(90)
            assert server.terminate(timeout=120) == 0, server.log_tail()
            # With acks_late a message leaves "unacked" once its run is over:
            # when both are empty, every message Redis still had has run.
            settled = wait_quietly(
                lambda: broker.hlen("unacked") == 0 and broker.llen(procs.CeleryWorker.QUEUE) == 0,
                60,
            )
            missing = sorted(services.committed_rids() - set(services.runs_per_rid()))
            where = {rid: where_in_redis(broker, rid) for rid in missing}
            mutex_ttl = broker.ttl("unacked_mutex")
            assert restarted.alive()
            assert restarted.terminate(timeout=30) == 0, restarted.log_tail()
    vanished = [rid for rid, place in where.items() if place == "nowhere"]
    measured.update(
        runs_at_kill=runs_at_kill,
        unacked_at_kill=unacked_at_kill,
        queued_at_kill=queued_at_kill,
        lost_in_kombu_window=len(vanished),
    )
    assert unacked_at_kill >= 1, "the kill stranded no message: the test proves less"
    # Still queued or unacknowledged after 60 s: never delivered again, a
    # settings problem (visibility timeout, restore sweep, its mutex).
    stranded = {rid: place for rid, place in where.items() if place != "nowhere"}
    assert not stranded, f"never delivered again: {stranded}; unacked_mutex ttl {mutex_ttl}"
    # Gone from Redis: kombu's BRPOP-to-unacked window, one message at most.
    assert len(vanished) <= 1, f"{len(vanished)} messages vanished: {vanished}"
    assert settled, "the queue did not empty within 60 s"
    outcome(plan, answers, measured, allowed_lost=set(vanished))
