"""
A finished attempt as an event log row: plain values only, every text cut to
its column, made on the receiver's thread without a query.
"""

from __future__ import annotations

import datetime
import os
import socket
import traceback
from typing import Any

from .. import process
from ..labels import receiver_label, sender_label, signal_label

#: Text kept of an error message, a traceback and the keyword arguments.
MESSAGE_LIMIT = 2_000
TRACEBACK_LIMIT = 20_000
KWARGS_LIMIT = 2_000
#: The length of the CharFields of ReceiverRun.
LABEL_LIMIT = 255

_process_name = ""


def _name_this_process() -> None:
    global _process_name
    _process_name = f"{socket.gethostname()}:{os.getpid()}"


_name_this_process()
process.reset_after_fork(_name_this_process)


def build(
    delivery: Any,
    receiver: Any,
    alias: str,
    status: str,
    started: float,
    duration: float,
    exc: BaseException | None,
    with_kwargs: bool,
) -> dict[str, Any]:
    """The row of one finished attempt (``started``: a ``time.time()``
    value, ``duration`` in seconds)."""
    row = {
        "event": signal_label(delivery.signal)[:LABEL_LIMIT],
        "sender": sender_label(delivery.sender)[:LABEL_LIMIT],
        "receiver": receiver_label(getattr(receiver, "eventx_listener", receiver))[:LABEL_LIMIT],
        "backend": alias[:100],
        "status": status,
        "attempt": delivery.attempt,
        "queued_at": _datetime(delivery.queued_at),
        "started_at": _datetime(started),
        "finished_at": _datetime(started + duration),
        "duration_ms": duration * 1000,
        "process": _process_name,
    }
    if exc is not None:
        kind = type(exc)
        row["error_type"] = f"{kind.__module__}.{kind.__qualname__}"[:LABEL_LIMIT]
        row["error_message"] = str(exc)[:MESSAGE_LIMIT]
        formatted = "".join(traceback.format_exception(kind, exc, exc.__traceback__))
        row["traceback"] = formatted[-TRACEBACK_LIMIT:]
    if with_kwargs:
        row["kwargs"] = repr(delivery.kwargs)[:KWARGS_LIMIT]
    return row


def _datetime(timestamp: float | None) -> datetime.datetime | None:
    from django.conf import settings

    if timestamp is None:
        return None
    if not settings.USE_TZ:
        return datetime.datetime.fromtimestamp(timestamp)
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
