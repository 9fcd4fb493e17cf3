"""
Scenario 4: a post_save receiver that fails 30 % of its attempts,
deterministically by request id and attempt (relapp/flaky.py), with
``@retry(max_attempts=3, backoff=0.05)``, on the thread backend under
gunicorn (gthread, 2 x 4), 600 requests at 16 clients, then SIGTERM (waiting
retries are run at shutdown). No request may fail; every run whose retries
suffice must succeed exactly once, at the first attempt that does not fail;
each failed attempt is logged exactly once at ERROR on ``eventx_signals``
with "(attempt n of 3; ...)".
"""

import pytest
from harness import procs, services
from harness.load import request_plan, run_load, unexpected_answers
from relapp import flaky

REQUESTS = 600


@pytest.mark.limit(90)
def test_failing_receiver_is_retried_and_each_failed_attempt_logged_once(
    database, tmp_path, logdir, measured
):
    plan = request_plan("retry", REQUESTS, fail_every=0)
    env = procs.project_env(REL_BACKEND="thread", REL_RECEIVER="flaky", REL_LOG_DIR=logdir)
    server = procs.Gunicorn(env, tmp_path / "gunicorn.log", worker_class="gthread")
    with server:
        server.wait_ready()
        answers = run_load(server.port, plan.paths, concurrency=16, time_limit=60)
        status = server.terminate(timeout=120)
    assert status == 0, server.log_tail()
    wrong = unexpected_answers(answers, plan)
    assert not wrong, f"{len(wrong)} requests failed: {list(wrong.items())[:5]}"  # none may

    committed = services.committed_rids()
    assert committed == plan.good
    runs = services.rows("SELECT rid, attempt FROM relapp_receiverrun")
    succeeded: dict[str, list[int]] = {}
    for rid, attempt in runs:
        succeeded.setdefault(rid, []).append(attempt)
    expected = {rid: flaky.succeeding_attempt(rid) for rid in committed}
    should_succeed = {rid: a for rid, a in expected.items() if a is not None}
    exhausted = {rid for rid, a in expected.items() if a is None}
    wrong_runs = {
        rid: succeeded.get(rid) for rid, a in should_succeed.items() if succeeded.get(rid) != [a]
    }
    errors = [
        r
        for r in procs.log_records(logdir)
        if r["logger"] == "eventx_signals" and r["level"] == "ERROR"
    ]
    attempt_lines = [r["msg"] for r in errors if "attempt" in r["msg"]]
    expected_lines = sum(flaky.failed_attempts(rid) for rid in committed)
    measured.update(
        runs=len(committed),
        needed_retries=sum(1 for a in should_succeed.values() if a > 1),
        succeeded=sum(len(a) for a in succeeded.values()),
        exhausted=len(exhausted),
        error_lines=len(attempt_lines),
        expected_error_lines=expected_lines,
    )
    assert not wrong_runs, (
        f"{len(wrong_runs)} runs did not succeed once, as expected: {list(wrong_runs.items())[:5]}"
    )
    assert not set(succeeded) & exhausted, "a run succeeded after its last attempt failed"
    assert len(attempt_lines) == expected_lines
    assert len(errors) == len(attempt_lines)  # nothing else went wrong
    for n in (1, 2):
        retried = sum(1 for rid in committed if flaky.failed_attempts(rid) >= n)
        assert sum(f"(attempt {n} of 3; retrying in" in line for line in attempt_lines) == retried
    assert sum("(attempt 3 of 3; not retried)" in line for line in attempt_lines) == len(exhausted)
    assert sum("FlakyReceiverError" in line for line in attempt_lines) == expected_lines
