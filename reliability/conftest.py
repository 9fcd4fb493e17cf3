"""
Fixtures of the reliability suite: real services on loopback (PostgreSQL,
Redis), a time limit per test, and the figures each test measured (printed
at the end of the run).

A missing service skips the tests that need it, or fails them when
EVENTX_TEST_REQUIRE_SERVICES=1 (as .ci/run sets it).
"""

from __future__ import annotations

import faulthandler
import importlib
import os
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "project"))  # relapp.flaky, relapp.forged: no Django

from harness import procs, services  # noqa: E402

DEFAULT_LIMIT = 90.0
_started = time.monotonic()
_measured: dict[str, dict[str, object]] = {}


def require(problem: str | None) -> None:
    if problem is None:
        return
    if os.environ.get("EVENTX_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {problem}", pytrace=False)
    pytest.skip(problem)


# -- services -------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres():
    """The database eventx_reliability, recreated and migrated for the session."""
    require(services.postgres_problem())
    services.recreate_database()
    migrated = procs.manage("migrate", "--run-syncdb", "--verbosity", "0", timeout=180)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    yield services.DB_NAME
    procs.registry.kill_all()
    services.drop_database()


@pytest.fixture
def database(postgres):
    """The session's database, emptied for this test."""
    services.truncate()
    return postgres


@pytest.fixture(scope="session")
def redis_session():
    require(services.redis_problem())
    client = services.redis_client()
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def broker(redis_session):
    """Redis db 6, empty before and after the test."""
    redis_session.flushdb()
    yield redis_session
    redis_session.flushdb()


@pytest.fixture(scope="session")
def uvicorn_installed():
    try:
        import uvicorn  # noqa: F401
    except ImportError as exc:
        require(f"uvicorn is not installed in this environment ({exc}); pip install uvicorn")


@pytest.fixture(scope="session")
def otel_sdk_installed():
    """The OpenTelemetry SDK and Prometheus exporter (the test extra), which
    the servers of scenario 9 configure."""
    for module in (
        "opentelemetry.sdk.trace",
        "opentelemetry.exporter.prometheus",
        "prometheus_client",
    ):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            require(
                f"the OpenTelemetry SDK is not installed in this environment ({exc}); "
                'pip install -e ".[test]"'
            )


# -- time limits and clean-up ---------------------------------------------------------


@pytest.fixture(autouse=True)
def _time_limit(request):
    """Kill every child process when the test overruns its limit (its waits
    then fail fast); dump the stacks and end the run if even that hangs."""
    marker = request.node.get_closest_marker("limit")
    limit = float(marker.args[0]) if marker else DEFAULT_LIMIT
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        procs.registry.kill_all()

    timer = threading.Timer(limit, expire)
    timer.daemon = True
    timer.start()
    faulthandler.dump_traceback_later(limit + 60, exit=True)
    try:
        yield
    finally:
        timer.cancel()
        faulthandler.cancel_dump_traceback_later()
        procs.registry.kill_all()
    if expired.is_set():
        pytest.fail(f"the test overran its {limit:.0f} s limit: its processes were killed")


@pytest.fixture
def logdir(tmp_path):
    path = tmp_path / "logs"
    path.mkdir()
    return path


# -- figures ----------------------------------------------------------------------


@pytest.fixture
def measured(request):
    """A dict of figures, printed under the test's name at the end of the run."""
    figures: dict[str, object] = {}
    _measured[request.node.nodeid.split("::", 1)[-1]] = figures
    return figures


def pytest_terminal_summary(terminalreporter):
    if not _measured:
        return
    terminalreporter.write_sep("-", "reliability figures")
    for name, figures in _measured.items():
        if figures:
            shown = ", ".join(f"{key}={value}" for key, value in figures.items())
            terminalreporter.write_line(f"{name}: {shown}")
    terminalreporter.write_line(f"suite wall time: {time.monotonic() - _started:.0f} s")
