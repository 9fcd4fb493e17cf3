"""
The event log (EVENTX_RECORD_EVENTS): one ``ReceiverRun`` row per receiver
attempt, on every backend.

Recording never touches the database in the receiver's thread: a finished
attempt becomes a row of plain values (``rows``), appended to an in-memory
buffer, and one writer thread per process inserts the buffer in batches, on
its own connection (``writing``), so that a row is never written inside the
caller's (or the receiver's) transaction and a slow or broken database never
slows or breaks a receiver. What cannot be written is dropped, counted and
logged (rate-limited); the buffer is bounded. The writer also deletes rows
older than the retention (``pruning``).
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed

from .. import process
from . import drops, rows
from .pruning import prune, retention_days
from .writing import Writer

__all__ = ["Writer", "enabled", "prune", "record", "refresh", "retention_days", "writer"]

#: Whether attempts are recorded; read by every receiver run (see refresh()).
enabled = False
_record_kwargs = False


def refresh() -> None:
    """Read EVENTX_RECORD_EVENTS and EVENTX_RECORD_KWARGS again (at start-up
    and when a setting changes)."""
    global enabled, _record_kwargs
    from django.conf import settings

    enabled = getattr(settings, "EVENTX_RECORD_EVENTS", False) is True
    _record_kwargs = getattr(settings, "EVENTX_RECORD_KWARGS", False) is True


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("EVENTX_RECORD_EVENTS", "EVENTX_RECORD_KWARGS"):
        refresh()


setting_changed.connect(_on_setting_changed, dispatch_uid="eventx_signals.event_log.refresh")

writer = Writer()
process.reset_after_fork(writer._reset)


def record(
    delivery: Any,
    receiver: Any,
    alias: str,
    status: str,
    started: float,
    duration: float,
    exc: BaseException | None,
) -> None:
    """Buffer one finished attempt (``started``: a ``time.time()`` value,
    ``duration`` in seconds); called by ``Delivery`` when ``enabled``."""
    try:
        row = rows.build(delivery, receiver, alias, status, started, duration, exc, _record_kwargs)
        writer.add(row)
    except Exception as error:  # recording must never break a receiver run
        drops.drops.add(drops.NOT_RECORDED, 1, f"{type(error).__name__}: {error}")
