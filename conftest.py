"""Runs every Python example of README.rst and of the documentation
(``docs/``), in order, as part of the tests.

Each ``.. code-block:: python`` is executed in one namespace per document, set
up by ``_setup()`` below; ``.. invisible-code-block: python`` blocks (not
rendered) set the stage and check what the visible examples claim. A block
that cannot run here (a model class, which needs an installed app of its own)
is marked ``.. skip: next`` and followed by an invisible block that checks
what the page says of it. The documents run after the test suite (see
``testpaths``), with database access.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sybil import Sybil
from sybil.parsers.rest import PythonCodeBlockParser, SkipParser


@pytest.fixture(scope="session")
def readme_database(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The test database, open to the examples (they run last)."""
    with django_db_blocker.unblock():
        yield


def _teardown(namespace: dict[str, Any]) -> None:
    from eventx_signals.testing import wait_for_runs

    wait_for_runs(timeout=30)
    _forget_listeners(namespace["_listeners_before"])
    _forget_opentelemetry_providers()


def _forget_opentelemetry_providers() -> None:
    """Unset the tracer and meter providers a document set, so that the
    documents after it run untraced and unmeasured, as the tests do. Only
    once set: a reset also replaces the API's proxy provider, which would
    leave the library's instruments, made from the first proxy at import,
    out of reach of any provider set later."""
    from opentelemetry.test.globals_test import reset_metrics_globals, reset_trace_globals

    from eventx_signals.internals import METER_PROVIDER, TRACER_PROVIDER

    if TRACER_PROVIDER.is_set():
        reset_trace_globals()
    if METER_PROVIDER.is_set():
        reset_metrics_globals()


def _forget_listeners(before: dict[str, list[str]]) -> None:
    """Disconnect the named-event listeners a document registered (they are
    held strongly, for the life of the process), so that the next document
    starts with the events it found."""
    from eventx_signals.core.registry import registry

    with registry.lock:
        for name, paths in list(registry.listener_paths.items()):
            for path in [p for p in paths if p not in before.get(name, [])]:
                registry.events[name].disconnect(dispatch_uid=f"eventx:{name}:{path}")
                paths.remove(path)
        for name in set(registry.events) - set(before):
            del registry.events[name]
            registry.listener_paths.pop(name, None)


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

    # Functions and classes of the examples get a module name, as in a
    # project (Django's URL resolver and the receivers' labels read it).
    namespace["__name__"] = "example"
    shop = types.ModuleType("shop")
    shop.models = types.ModuleType("shop.models")
    shop.models.Order = shop.models.Product = Order
    shop.signals = types.ModuleType("shop.signals")
    shop.signals.order_paid = order_paid_tasks
    sys.modules.update({"shop": shop, "shop.models": shop.models, "shop.signals": shop.signals})
    mail.outbox = []  # each page starts with no e-mail sent, as a test does
    namespace.update(User=User, mail=mail, wait_for_runs=wait_for_runs)
    namespace["config_problems"] = _config_problems
    from eventx_signals.core.registry import registry

    with registry.lock:
        namespace["_listeners_before"] = {
            name: list(registry.listener_paths.get(name, [])) for name in registry.events
        }


def _config_problems() -> list[str]:
    """System check messages about the settings of an example. E013 (a
    signal names an alias the settings lack) is left out: signals the test
    suite made, some not yet garbage collected, name aliases the examples do
    not define."""
    from eventx_signals.checks import check_backends

    return [f"{m.id}: {m.msg}" for m in check_backends() if m.id != "eventx_signals.E013"]


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    # Matched against the end of each path (pathlib's match): the pages of
    # docs/ and of its folders, never docs/_build/.
    patterns=["README.rst", "docs/*.rst", "docs/*/*.rst"],
    fixtures=["readme_database"],
    setup=_setup,
    teardown=_teardown,
).pytest()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # pytest-django creates only the test databases that marked items ask
    # for: the mark makes it create the default one for the examples (which
    # open it through readme_database) also when they run alone.
    for item in items:
        if item.path.suffix == ".rst":
            item.add_marker(pytest.mark.django_db(transaction=True))
