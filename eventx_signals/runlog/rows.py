"""
A finished attempt as a run log row: plain values only, every text cut to
its column and cleaned of what a database refuses, so that a row is made on
the receiver's thread without a query and, once made, can be written.
"""

from __future__ import annotations

import datetime
import os
import socket
import traceback
from typing import Any

from django.conf import settings

from ..core import process, tracing
from ..core.labels import receiver_label, sender_label, signal_label
from .safe_repr import safe_repr

#: Text kept of an error message, a traceback and the keyword arguments.
MESSAGE_LIMIT = 2_000
TRACEBACK_LIMIT = 20_000
KWARGS_LIMIT = 2_000
#: The length of the CharFields of ReceiverRun.
LABEL_LIMIT = 255

_process_name = ""


def _name_this_process() -> None:
    global _process_name
    _process_name = f"{socket.gethostname()}:{os.getpid()}"[:100]


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
        "signal": text(signal_label(delivery.signal), LABEL_LIMIT),
        "sender": text(_sender_text(delivery.sender), LABEL_LIMIT),
        "receiver": text(
            receiver_label(getattr(receiver, "eventx_listener", receiver)), LABEL_LIMIT
        ),
        "backend": text(alias, 100),
        "status": status,
        "attempt": delivery.attempt,
        "queued_at": _datetime(delivery.queued_at),
        "started_at": _datetime(started),
        "finished_at": _datetime(started + duration),
        "duration_ms": duration * 1000,
        "process": _process_name,
        "dispatch_id": text(str(delivery.dispatch_id), 64),
        "trace_id": tracing.current_trace_id() or tracing.trace_id(delivery),
    }
    if exc is not None:
        kind = type(exc)
        row["error_type"] = text(f"{kind.__module__}.{kind.__qualname__}", LABEL_LIMIT)
        row["error_message"] = text(_message(exc), MESSAGE_LIMIT)
        formatted = "".join(traceback.format_exception(kind, exc, exc.__traceback__))
        row["traceback"] = text(formatted, TRACEBACK_LIMIT, keep="end")
    if with_kwargs:
        try:
            kwargs = safe_repr(delivery.kwargs, KWARGS_LIMIT)
        except Exception as error:  # costs the row its arguments, nothing else
            kwargs = f"<not recorded: {type(error).__name__}>"
        row["kwargs"] = text(kwargs, KWARGS_LIMIT)
    return row


def text(value: str, limit: int, keep: str = "start") -> str:
    """
    ``value`` cut to ``limit`` characters (its start, or with ``keep="end"``
    its end), with what databases refuse in text written as an escape:
    a NUL character (PostgreSQL) as the four characters ``\\x00``, a lone
    surrogate (no UTF-8 encoding) as ``\\udc80`` and the like.
    """
    value = value[:limit] if keep == "start" else value[-limit:]
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if not value.isascii():
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value[:limit] if keep == "start" else value[-limit:]


def _sender_text(sender: Any) -> str:
    # A class (a model) by its label; anything else without its own code.
    if issubclass(type(sender), type):
        return sender_label(sender)
    return safe_repr(sender, LABEL_LIMIT)


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as error:  # costs the row its message, nothing else
        return f"<str() of the exception raised {type(error).__name__}>"


def _datetime(timestamp: float | None) -> datetime.datetime | None:
    if timestamp is None:
        return None
    if not settings.USE_TZ:
        return datetime.datetime.fromtimestamp(timestamp)
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)
