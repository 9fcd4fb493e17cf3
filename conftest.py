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
