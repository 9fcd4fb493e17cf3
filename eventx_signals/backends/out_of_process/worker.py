"""
The worker side of the out-of-process backends: run the receiver a payload
names, and give the engine only what it can store.

An engine records a run's outcome in its own store: Django Tasks' database
backend in PostgreSQL text and JSON columns, Celery in its result backend and
its worker's logs. What a receiver returns or raises must never make that
fail, nor end the worker:

- a return value that is not strict JSON (a model instance, NaN) or holds a
  NUL character (which PostgreSQL text cannot hold) is recorded as None, with
  one WARNING per receiver;
- an exception is passed on as it is when the engine can store it; one whose
  text holds a NUL, and any ``BaseException`` that is not an ``Exception``
  (``SystemExit``, ``KeyboardInterrupt``: they would end a Celery worker, or
  kill a prefork child again and again with late acknowledgement), is passed
  on as ``ReceiverFailed``, whose message is the original's type and text,
  escaped and cut. The receiver's own traceback is in the worker's log, as
  for every failed run.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

from ...core.labels import receiver_label
from ...core.ratelimit import LogOnce
from . import payloads

logger = logging.getLogger("eventx_signals")

#: Characters of a failure's text kept in the engine's store.
MESSAGE_LIMIT = 2_000


class ReceiverFailed(Exception):
    """A receiver's failure, as the engine records it when the original
    exception cannot be stored or would end the worker."""


def run_payload_in_worker(
    payload: Any,
    enqueue_retry: payloads.EnqueueRetry | None = None,
    extra_attempts: int = 0,
    process_exits: tuple[type[BaseException], ...] = (),
) -> Any:
    """
    Run the receiver a payload names; return its return value if the engine
    can store it, else None. Raises ``RefusedPayload``, ``RetryScheduled``,
    the receiver's exception when the engine can store it, or
    ``ReceiverFailed``. ``process_exits``: exceptions the engine raises in
    the worker to stop it (Celery's shutdown), passed on as they are.
    """
    refetch = isinstance(payload, dict) and payload.get("refetch") is True
    try:
        result = payloads.run_payload(
            payload, refetch=refetch, enqueue_retry=enqueue_retry, extra_attempts=extra_attempts
        )
    except (payloads.RefusedPayload, payloads.RetryScheduled):
        raise
    except BaseException as exc:
        if process_exits and isinstance(exc, process_exits):
            raise
        storable = storable_failure(exc)
        if storable is exc:
            raise
        raise storable from None  # the cause's text is what the store cannot hold
    return storable_result(result, payload)


def storable_failure(exc: BaseException) -> BaseException:
    """``exc`` itself if an engine can store and survive it, else a
    ``ReceiverFailed`` saying what it was."""
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # a __str__ that fails
        text = "\x00"
    if isinstance(exc, Exception) and "\x00" not in text:
        return exc
    try:
        message = str(exc)
    except Exception:
        message = "(its text could not be read)"
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return ReceiverFailed(f"{kind}: {escape_nul(message)}"[:MESSAGE_LIMIT])


def escape_nul(text: str) -> str:
    """``text`` with each NUL written as the four characters ``\\x00``."""
    return text.replace("\x00", "\\x00")


#: One WARNING per receiver whose return value a task store cannot hold.
log_unstorable = LogOnce(logging.WARNING)


def storable_result(result: Any, payload: Any) -> Any:
    """``result`` if it is strict JSON without a NUL character, else None
    (with one WARNING per receiver)."""
    try:
        text = json.dumps(result, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = None
    if text is not None and "\\u0000" not in text:
        return result
    name = payload.get("receiver") if isinstance(payload, dict) else None
    name = name if isinstance(name, str) else receiver_label(name)
    log_unstorable(
        name,
        "The receiver %s returned %s, which a task store cannot hold (not JSON, NaN or "
        "infinite, or a NUL character); its task records None. (Logged once per receiver.)",
        name,
        f"a {type(result).__qualname__}",
    )
    return None
