"""Runs every Python example of README.rst, in order, as part of the tests.

Each ``.. code-block:: python`` of the README is executed in one namespace per
document; ``.. invisible-code-block: python`` blocks (not rendered) set the
stage and check what the visible examples claim. The README runs after the
test suite (see ``testpaths``), with database access.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sybil import Sybil
from sybil.parsers.rest import PythonCodeBlockParser


@pytest.fixture(scope="session")
def readme_database(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The test database, open to the README's examples (they run last)."""
    with django_db_blocker.unblock():
        yield


def _teardown(namespace: dict[str, Any]) -> None:
    from eventx_signals.testing import wait_for_events

    wait_for_events(timeout=30)


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser()],
    patterns=["README.rst"],
    fixtures=["readme_database"],
    teardown=_teardown,
).pytest()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # pytest-django creates only the test databases that marked items ask
    # for: the mark makes it create the default one for the README's
    # examples (which open it through readme_database) also when they run
    # alone.
    for item in items:
        if item.path.name == "README.rst":
            item.add_marker(pytest.mark.django_db(transaction=True))
