"""Real worker processes for the out-of-process backends' tests: django-tasks-db's
``db_worker`` and ``celery worker``, on the test's own database."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def worker_env():
    """The environment of a worker: the test settings, on the test database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        EVENTX_TEST_WORKER_DATABASE=str(connection.settings_dict["NAME"]),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    return env


DB_WORKER = [sys.executable, "-m", "django", "db_worker", "--queue-name", "*", "--no-startup-delay"]


def run_db_worker_until_idle(timeout=60, **env):
    """Run ``db_worker --batch``: it works through what is ready, then exits."""
    completed = subprocess.run(
        [*DB_WORKER, "--batch", "--interval", "0"],
        cwd=ROOT,
        env={**worker_env(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def start_db_worker(worker_id, log_path):
    """A long-running db_worker, in its own process group."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [*DB_WORKER, "--interval", "0.05", "--worker-id", worker_id],
            cwd=ROOT,
            env=worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until(predicate, timeout, what):
    """Poll ``predicate`` (work in another process has no future to await)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def redis_url():
    """The broker of the Celery tests; .ci/run sets it, and then a missing
    Redis fails the run (see conftest.py)."""
    url = os.environ.get("EVENTX_TEST_REDIS_URL")
    if not url:
        why = "needs a Redis broker: set EVENTX_TEST_REDIS_URL (redis://host:port/db)"
        if os.environ.get("EVENTX_TEST_REQUIRE_SERVICES"):
            pytest.fail(why)
        pytest.skip(why)
    return url


@contextlib.contextmanager
def celery_worker(log_path, concurrency=2, pool="threads", **env):
    """A real ``celery worker`` on the test app and queue, ready when yielded,
    stopped with a warm shutdown (SIGTERM) afterwards."""
    from tests.celery_app import app

    name = f"eventx-test-{uuid.uuid4().hex[:8]}@localhost"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker"),
                *("--pool", pool, "--concurrency", str(concurrency)),
                *("-Q", "eventx-test", "-n", name, "-l", "info"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=ROOT,
            env={**worker_env(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: process.poll() is not None or app.control.ping([name], timeout=0.5),
            60,
            "the celery worker to answer a ping",
        )
        assert process.poll() is None, Path(log_path).read_text()[-3000:]
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
