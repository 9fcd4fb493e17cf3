"""
The default backend: receivers run on worker threads of this process, fed
from a bounded queue (``pool``); retries wait for their backoff on one timer
thread (``timer``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from asgiref.sync import sync_to_async

from ...config import validators
from ..base import BaseBackend
from ..handler import backends
from .pool import WHEN_FULL_POLICIES, WorkerPool

if TYPE_CHECKING:
    from ...engine.delivery import Delivery

__all__ = ["ThreadBackend"]


class ThreadBackend(BaseBackend):
    """
    Runs receivers in a pool of worker threads, started on first use.

    Options: ``workers`` (threads, default 4), ``queue_size`` (deliveries
    waiting, default 10,000), ``when_full`` (``"block"``, ``"inline"`` or
    ``"drop"``), ``block_timeout`` (seconds a sender waits for room, default
    5), ``connection_max_idle`` (seconds a worker keeps its database
    connections while idle, default 60), ``stuck_after`` (seconds after which
    a running receiver is reported as stuck, default 60) and
    ``max_extra_workers`` (threads started while a sender waits for room and
    every worker has been on its receiver for over half the block timeout,
    default 32).
    """

    option_defaults: ClassVar[Mapping[str, Any]] = {
        "workers": 4,
        "queue_size": 10_000,
        "when_full": "block",
        "block_timeout": 5.0,
        "connection_max_idle": 60.0,
        "stuck_after": 60.0,
        "max_extra_workers": 32,
    }

    def __init__(self, alias: str = "default", options: Mapping[str, Any] | None = None):
        super().__init__(alias, options)
        self.pool = WorkerPool(alias=alias, find_replacement=self._replacement, **self.options)
        # The pool's own method, not one that calls it: every send calls
        # dispatch, and one Python call less is a few percent of a send.
        self.dispatch = self.pool.dispatch  # type: ignore[method-assign]

    def _replacement(self, alias: str) -> WorkerPool | None:
        """The pool of the backend that took over this one's alias, if this
        one was made from EVENTX_BACKENDS."""
        if not self.from_settings:
            return None
        try:
            replacement = backends[alias]
        except Exception:  # the alias is gone from the settings
            return None
        return replacement.pool if isinstance(replacement, ThreadBackend) else None

    @classmethod
    def validate_option(cls, name: str, value: Any) -> list[str]:
        label = f"Option {name!r}"
        if name in ("workers", "queue_size"):
            return validators.positive_integer(value, label)
        if name == "max_extra_workers":
            return validators.natural_integer(value, label)
        if name in ("block_timeout", "connection_max_idle", "stuck_after"):
            return validators.seconds(value, label)
        if name == "when_full":
            return validators.one_of(WHEN_FULL_POLICIES)(value, label)
        return []

    def submit(self, delivery: Delivery) -> None:
        self.pool.submit(delivery)

    async def adispatch(self, delivery: Delivery) -> None:
        if not self.pool.try_put(delivery):
            # Waiting for room, or running inline, must not block the loop.
            await sync_to_async(self.pool.submit, thread_sensitive=False)(delivery)

    def running_threads(self) -> int:
        return self.pool.running_threads()

    def close(self, timeout: float | None = None) -> int:
        return self.pool.shutdown(None if timeout is None else time.monotonic() + timeout)
