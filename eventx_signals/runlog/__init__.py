"""
The run log (EVENTX_RECORD_RUNS): one ``ReceiverRun`` row per attempt of a
receiver run, on every backend.

Recording never touches the database in the receiver's thread: a finished
attempt becomes a row of plain values (``rows``), appended to an in-memory
buffer, and one writer thread per process inserts the buffer in batches, on
its own connection (``writing``), so that a row is never written inside the
caller's (or the receiver's) transaction and a slow or broken database never
slows or breaks a receiver. What cannot be written is dropped, counted and
logged (rate-limited); the buffer is bounded. The writer also deletes rows
older than the retention (``pruning``).

It may import the core and the settings layer; its model is imported only
once the app registry is ready.
"""

from __future__ import annotations

from typing import Any

from ..config.settings import RECORD_KWARGS, RECORD_RUNS
from ..core import process
from . import drops, rows
from .pruning import prune, retention_days
from .writing import Writer

__all__ = ["Writer", "enabled", "prune", "record", "refresh", "retention_days", "writer"]

#: Whether attempts are recorded; read by every receiver run (see refresh()).
enabled = False
_record_kwargs = False


def refresh() -> None:
    """Read EVENTX_RECORD_RUNS and EVENTX_RECORD_KWARGS again (the run loop's
    steps do, at start-up and when one changes)."""
    global enabled, _record_kwargs
    enabled = RECORD_RUNS.raw() is True
    _record_kwargs = RECORD_KWARGS.raw() is True


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
    ``duration`` in seconds); called by the run loop's step when ``enabled``."""
    try:
        row = rows.build(delivery, receiver, alias, status, started, duration, exc, _record_kwargs)
        writer.add(row)
    except Exception as error:  # recording must never break a receiver run
        drops.drops.add(drops.NOT_RECORDED, 1, f"{type(error).__name__}: {error}")
