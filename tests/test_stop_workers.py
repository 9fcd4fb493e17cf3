"""``stop_workers()``: the workers keep their database connections across
jobs, so the test databases cannot be dropped until they are stopped (the
pytest plugin does it before pytest-django's teardown)."""

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.test import override_settings

from eventx_signals import AsyncSignal
from eventx_signals.runlog import writer
from eventx_signals.testing import stop_workers, wait_for_runs

ROOT = Path(__file__).resolve().parent.parent


def _worker_session(sender, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            return threading.current_thread(), cursor.fetchone()[0]
    return threading.current_thread(), None


@pytest.mark.django_db(transaction=True)
def test_stop_workers_ends_the_workers_and_the_next_send_starts_new_ones():
    signal = AsyncSignal()
    signal.connect(_worker_session)
    [(_, future)] = signal.send(None)
    worker, pid = future.result(10)
    assert worker.is_alive()

    stop_workers()

    assert not worker.is_alive()
    if pid is not None:  # PostgreSQL: its session is gone too
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            assert cursor.fetchone()[0] == 0
    [(_, future)] = signal.send(None)
    new_worker, _ = future.result(10)
    assert new_worker is not worker and new_worker.is_alive()


def test_stop_workers_names_a_worker_that_does_not_finish():
    release = threading.Event()
    started = threading.Event()

    def hangs(sender, **kwargs):
        started.set()
        release.wait(30)

    signal = AsyncSignal()
    signal.connect(hangs)
    [(_, future)] = signal.send(None)
    assert started.wait(10)
    try:
        with pytest.raises(TimeoutError, match="1 worker thread"):
            stop_workers(timeout=0.2)
    finally:
        release.set()
    future.result(10)


@pytest.mark.django_db(transaction=True)
def test_the_run_log_writer_closes_its_connection_and_opens_one_for_later_rows():
    opened = []

    def remember(sender, connection, **kwargs):
        opened.append(threading.current_thread().name)

    signal = AsyncSignal()
    signal.connect(_worker_session)
    connection_created.connect(remember)
    try:
        with override_settings(EVENTX_RECORD_RUNS=True):
            signal.send(None)
            wait_for_runs()
            writer.flush()
            assert writer.close_connection()
            opened.clear()
            signal.send(None)
            wait_for_runs()
            writer.flush()
    finally:
        connection_created.disconnect(remember)
    # Closed, so the writer had to open a new connection for the next row.
    assert "eventx-run-log" in opened


CHILD_TEST = """
import pytest
from django.db import connection
from eventx_signals import AsyncSignal

signal = AsyncSignal()


def query(sender, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


signal.connect(query, weak=False)


@pytest.mark.django_db(transaction=True)
def test_a_worker_uses_the_test_database():
    [(_, future)] = signal.send(None)
    future.result(10)
"""

CHILD_SETTINGS = """
from tests.settings import *  # noqa: F403

DATABASES["default"]["TEST"] = {"NAME": "test_eventx_plugin_child"}  # noqa: F405
DATABASES["other"]["TEST"] = {"NAME": "test_eventx_plugin_child_other"}  # noqa: F405
"""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.parametrize("plugin", ["on", "off"])
def test_pytest_django_can_drop_the_test_database_after_workers_used_it(tmp_path, plugin):
    (tmp_path / "test_child.py").write_text(textwrap.dedent(CHILD_TEST))
    (tmp_path / "child_settings.py").write_text(textwrap.dedent(CHILD_SETTINGS))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["--ds", "child_settings", "--create-db", "--rootdir", str(tmp_path)]
    if plugin == "off":
        command += ["-p", "no:eventx_signals"]
    completed = subprocess.run(
        [*command, "test_child.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    refused = "is being accessed by other users" in output
    # Without the plugin the worker's session keeps the database; with it,
    # the worker is stopped first and the database dropped.
    assert refused == (plugin == "off"), output


@pytest.mark.django_db(transaction=True)
def test_a_fresh_writer_closes_the_connection_its_first_prune_opened(monkeypatch):
    from django.db import connections

    from eventx_signals.runlog import Writer

    events = []
    wrapper_class = type(connections["default"])
    original_close = wrapper_class.close

    def close(self):
        if self.connection is not None:
            events.append(("closed", threading.current_thread().name))
        return original_close(self)

    def remember(sender, connection, **kwargs):
        events.append(("opened", threading.current_thread().name))

    monkeypatch.setattr(wrapper_class, "close", close)
    connection_created.connect(remember)
    fresh = Writer()
    try:
        fresh._start()  # its first pass prunes old rows, on a new connection
        assert fresh.close_connection()
    finally:
        connection_created.disconnect(remember)
    mine = [what for what, thread in events if thread == "eventx-run-log"]
    assert mine == ["opened", "closed"]
