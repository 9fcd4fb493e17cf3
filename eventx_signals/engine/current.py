"""
What a receiver may ask about the run it is part of, without a parameter of
its own: the dispatch's id (``current_dispatch_id()``). The attempt is
``current_attempt()`` (``engine.retries``).
"""

from __future__ import annotations

import contextvars
from typing import Any

#: The delivery whose receivers run in this context (set by the run loop in
#: the delivery's copy of the sender's context).
delivery_running: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "eventx_delivery", default=None
)


def current_dispatch_id() -> str | None:
    """
    The id of the dispatch whose receiver is running (32 hex digits, shared
    by every run and attempt of one ``send()``, on every backend, and in the
    run log, log records and spans), or None outside a receiver run.
    """
    delivery = delivery_running.get()
    return None if delivery is None else str(delivery.dispatch_id)
