"""pytest fixtures for django-eventx, registered through the ``pytest11``
entry point: ``eventx_eager``, ``eventx_capture`` and ``eventx_wait``; and the
ini option ``eventx_eager``, which turns ``EVENTX_EAGER`` on for the whole run.

With pytest-django, the plugin also stops the worker threads (which keep
their database connections across jobs) before the test databases are
destroyed: PostgreSQL refuses to drop a database a session still uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from . import CapturedDispatch, capture_dispatches, eager, stop_workers, wait_for_runs


def pytest_addoption(parser: Any) -> None:
    parser.addini(
        "eventx_eager",
        type="bool",
        default=False,
        help="django-eventx: run every dispatch in the caller, as Django's own "
        "signals do (EVENTX_EAGER = True for the whole test run).",
    )


@pytest.fixture(autouse=True, scope="session")
def _eventx_eager_option(request: Any) -> Iterator[None]:
    """``eventx_eager = true`` in the ini file: EVENTX_EAGER for the run, which
    a test can still turn off with ``override_settings`` or pytest-django's
    ``settings`` fixture."""
    if not request.config.getini("eventx_eager"):
        yield
        return
    if not settings.configured:
        raise pytest.UsageError(
            "eventx_eager = true needs Django's settings configured (pytest-django's "
            "DJANGO_SETTINGS_MODULE, say)."
        )
    with override_settings(EVENTX_EAGER=True):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Iterator[None]:
    yield
    if fixturedef.argname == "django_db_setup":
        # Finalizers run last-added first: this one before the fixture's own
        # teardown, which destroys the test databases.
        fixturedef.addfinalizer(_stop_workers)


def _stop_workers() -> None:
    stop_workers(timeout=30)


@pytest.fixture
def eventx_eager() -> Iterator[None]:
    """Run every receiver inline and at once for the duration of the test."""
    with eager():
        yield


@pytest.fixture
def eventx_capture() -> Iterator[list[CapturedDispatch]]:
    """The list of dispatches made during the test."""
    with capture_dispatches() as dispatches:
        yield dispatches


@pytest.fixture
def eventx_wait() -> Callable[..., None]:
    """``wait_for_runs``, to call after the code under test."""
    return wait_for_runs
