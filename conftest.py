"""Runs every Python example of README.rst, in order, as part of the tests.

Each ``.. code-block:: python`` of the README is executed in one namespace per
document, set up by ``_setup()`` below; ``.. invisible-code-block: python``
blocks (not rendered) set the stage and check what the visible examples claim. The README runs after the
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
    from eventx_signals.testing import wait_for_runs

    wait_for_runs(timeout=30)


def _setup(namespace: dict[str, Any]) -> None:
    """What every example takes for granted: the examples import from a
    project's own apps (``shop``); here those names are the test project's."""
    import sys
    import types

    from django.contrib.auth.models import User
    from django.core import mail

    from eventx_signals.testing import wait_for_runs
    from tests.testapp.models import Order
    from tests.testapp.signals import order_paid_tasks

    shop = types.ModuleType("shop")
    shop.models = types.ModuleType("shop.models")
    shop.models.Order = shop.models.Product = Order
    shop.signals = types.ModuleType("shop.signals")
    shop.signals.order_paid = order_paid_tasks
    sys.modules.update({"shop": shop, "shop.models": shop.models, "shop.signals": shop.signals})
    namespace.update(User=User, mail=mail, wait_for_runs=wait_for_runs)
    namespace["config_problems"] = _config_problems


def _config_problems() -> list[str]:
    """System check messages about the settings of an example. E013 (a
    signal names an alias the settings lack) is left out: signals the test
    suite made, some not yet garbage collected, name aliases the examples do
    not define."""
    from eventx_signals.checks import check_backends

    return [f"{m.id}: {m.msg}" for m in check_backends() if m.id != "eventx_signals.E013"]


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser()],
    patterns=["README.rst"],
    fixtures=["readme_database"],
    setup=_setup,
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
