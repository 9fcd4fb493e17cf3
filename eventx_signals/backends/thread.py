"""The default backend: a bounded queue and worker threads in this process."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from asgiref.sync import sync_to_async

from ..dispatch import Dispatch
from ..worker_pool import WHEN_FULL_POLICIES, WorkerPool
from .base import BaseBackend, non_negative_number_error, positive_int_error


class ThreadBackend(BaseBackend):
    """
    Runs receivers in a pool of worker threads, started on first use.

    Options: ``workers`` (threads, default 4), ``queue_size`` (dispatches
    waiting, default 10,000), ``when_full`` (``"block"``, ``"inline"`` or
    ``"drop"``, default ``"block"``) and ``block_timeout`` (seconds a sender
    waits for room before running the receivers itself, default 5).
    """

    option_defaults: ClassVar[Mapping[str, Any]] = {
        "workers": 4,
        "queue_size": 10_000,
        "when_full": "block",
        "block_timeout": 5.0,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.pool = WorkerPool(**self.options)
        # Straight to the pool: one call less on every send.
        self.submit = self.pool.submit  # type: ignore[method-assign]

    @classmethod
    def validate_option(cls, name: str, value: Any) -> str | None:
        if name in ("workers", "queue_size"):
            return positive_int_error(name, value)
        if name == "block_timeout":
            return non_negative_number_error(name, value)
        if name == "when_full" and value not in WHEN_FULL_POLICIES:
            choices = ", ".join(repr(policy) for policy in WHEN_FULL_POLICIES)
            return f"Option 'when_full' must be one of {choices}, not {value!r}."
        return None

    def submit(self, dispatch: Dispatch) -> None:
        self.pool.submit(dispatch)

    async def asubmit(self, dispatch: Dispatch) -> None:
        if not self.pool.try_put(dispatch):
            # Waiting for room, or running inline, must not block the loop.
            await sync_to_async(self.pool.submit, thread_sensitive=False)(dispatch)

    def close(self, timeout: float | None = None) -> None:
        self.pool.close(None if timeout is None else time.monotonic() + timeout)
