"""
Scenario 7: bad input.

System checks: every check id of the table in docs/reference/checks.rst
(eventx_signals.E001-E017, W001-W005) fires on a misconfiguration made for
it (project/relproj/check_cases.py), each in its own ``manage.py check``
process, and only that id; a correct configuration raises none. No case may
crash start-up.

Forged payloads: malformed and forged payloads (project/relapp/forged.py)
written straight into a running db_worker's queue
(``get_task().using(queue_name=...).enqueue(payload)``) and a running celery
worker's (``app.send_task("eventx_signals.run_receiver", ...)``) are refused
without running any receiver, without side effects, and without stopping
the worker: the genuine payload sent after them still runs.
"""

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from harness import procs, services
from relproj.check_cases import CASES

CHECK_ID = re.compile(r"\((eventx_signals\.[EW]\d{3})\)")
TASKS_TABLE = "django_tasks_database_dbtaskresult"


@pytest.fixture(scope="module")
def check_runs():
    """``manage.py check`` once per case, four at a time."""

    def run(case: str):
        return case, procs.manage("check", env=procs.project_env(REL_CHECK_CASE=case), timeout=120)

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(run, CASES))


def readme_check_ids() -> set[str]:
    """The ids of the documentation's table of system checks."""
    table = (procs.REPO / "docs" / "reference" / "checks.rst").read_text()
    return set(re.findall(r"^``(eventx_signals\.[EW]\d{3})``", table, re.MULTILINE))


def test_every_readme_check_id_has_a_case(measured):
    ids = readme_check_ids()
    measured.update(readme_ids=len(ids))
    assert {"eventx_signals.E001", "eventx_signals.W001"} <= ids  # the table was found
    missing = sorted(ids - set(CASES))
    assert not missing, f"no misconfiguration in relproj/check_cases.py for {missing}"
    assert set(CASES) - {"ok"} == ids


@pytest.mark.limit(120)
@pytest.mark.parametrize("case", sorted(CASES))
def test_system_check_fires(check_runs, case, measured):
    completed = check_runs[case]
    output = completed.stdout + completed.stderr
    found = set(CHECK_ID.findall(output))
    measured.update(exit=completed.returncode, ids=sorted(found) or "none")
    assert "Traceback" not in output, output[-3000:]
    if case == "ok":
        assert found == set() and completed.returncode == 0, output[-3000:]
    else:
        assert found == {case}, output[-3000:]
        assert completed.returncode == (1 if ".E" in case else 0), output[-3000:]


def forge(env, engine: str, marker, genuine: str) -> dict:
    completed = procs.manage(
        "forge",
        "--engine",
        engine,
        "--marker",
        str(marker),
        "--genuine",
        genuine,
        env=env,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def refused_lines(logdir) -> list[str]:
    return [r["msg"] for r in procs.log_records(logdir) if r["msg"].startswith("Refused a payload")]


def genuine_ran(rid: str) -> bool:
    return services.scalar("SELECT count(*) FROM relapp_receiverrun WHERE rid = %s", (rid,)) > 0


def forged_runs() -> int:
    return services.scalar("SELECT count(*) FROM relapp_receiverrun WHERE rid LIKE 'forged-%%'")


@pytest.mark.limit(90)
def test_db_worker_refuses_forged_payloads_and_goes_on(database, tmp_path, logdir, measured):
    env = procs.project_env(REL_BACKEND="tasks", REL_RECEIVER="record", REL_LOG_DIR=logdir)
    marker = tmp_path / "owned"
    worker = procs.DbWorker(env, tmp_path / "worker.log", "rel-forged")
    with worker:
        sent = forge(env, "tasks", marker, "genuine-tasks")
        procs.wait_until(lambda: genuine_ran("genuine-tasks"), 60, "the genuine payload to run")
        statuses = dict(
            services.rows(f"SELECT status, count(*) FROM {TASKS_TABLE} GROUP BY status")
        )
        alive = worker.alive()
    refused = refused_lines(logdir)
    measured.update(forged=len(sent["sent"]), refused=len(refused), task_statuses=statuses)
    assert alive, worker.log_tail()
    assert statuses == {"FAILED": len(sent["sent"]), "SUCCESSFUL": 1}, statuses
    assert len(refused) == sent["refused"], refused
    assert forged_runs() == 0
    assert not marker.exists()
    assert "Beautiful is better than ugly" not in worker.log()  # 'this' was never imported


@pytest.mark.limit(90)
def test_celery_worker_refuses_forged_payloads_and_goes_on(
    database, broker, tmp_path, logdir, measured
):
    env = procs.project_env(REL_BACKEND="celery", REL_RECEIVER="record", REL_LOG_DIR=logdir)
    marker = tmp_path / "owned"
    worker = procs.CeleryWorker(
        env, tmp_path / "worker.log", f"rel-forged-{uuid.uuid4().hex[:6]}@localhost", concurrency=1
    )
    with worker:
        worker.wait_ready()
        sent = forge(env, "celery", marker, "genuine-celery")
        procs.wait_until(lambda: genuine_ran("genuine-celery"), 60, "the genuine payload to run")
        procs.wait_until(
            lambda: broker.llen(procs.CeleryWorker.QUEUE) == 0 and broker.hlen("unacked") == 0,
            30, "the queue to be empty",
        )  # fmt: skip
        alive = worker.alive()
        status = worker.terminate(timeout=30)
    log = worker.log()
    refused = refused_lines(logdir)
    failed_tasks = len(
        re.findall(r"Task eventx_signals\.run_receiver\[[^\]]+\] raised unexpected", log)
    )
    measured.update(forged=len(sent["sent"]), refused=len(refused), failed_tasks=failed_tasks)
    assert alive and status == 0, worker.log_tail()
    assert len(refused) == sent["refused"], refused
    assert failed_tasks == len(sent["sent"]), worker.log_tail(80)
    assert forged_runs() == 0
    assert not marker.exists()
    assert "Beautiful is better than ugly" not in log
