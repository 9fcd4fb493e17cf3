"""pytest fixtures for django-eventx, registered through the ``pytest11``
entry point: ``eventx_eager``, ``eventx_capture`` and ``eventx_wait``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .testing import CapturedEvent


@pytest.fixture
def eventx_eager() -> Iterator[None]:
    """Run every receiver inline and at once for the duration of the test."""
    from .testing import eager

    with eager():
        yield


@pytest.fixture
def eventx_capture() -> Iterator[list[CapturedEvent]]:
    """The list of dispatches made during the test."""
    from .testing import capture_events

    with capture_events() as events:
        yield events


@pytest.fixture
def eventx_wait() -> Callable[..., None]:
    """``wait_for_events``, to call after the code under test."""
    from .testing import wait_for_events

    return wait_for_events
