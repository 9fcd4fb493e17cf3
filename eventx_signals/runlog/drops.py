"""
Rows of the run log that are not kept, whatever the reason: each is counted
in ``stats()["run_log_dropped"]`` and logged at WARNING. Nothing else in
the run log discards a row.
"""

from __future__ import annotations

import logging
import threading
import time

from ..core import process
from ..core.counters import counters

logger = logging.getLogger("eventx_signals")

#: Seconds between two WARNING lines of the same reason; the rows dropped
#: meanwhile are told in the next one.
INTERVAL = 10.0

# The reasons, and their lines: "%d" the rows dropped since the last line of
# that reason, "%s" what happened to the last of them.
OVERFLOW = (
    "Dropped %d receiver runs from the run log, the oldest not yet written: its "
    "buffer was full (%s)."
)
WRITE_FAILED = (
    "Could not write %d receiver runs to the run log (%s). Is 'migrate' done for eventx_signals?"
)
REFUSED = "Dropped %d receiver runs the database refused from the run log (the last: %s)."
NOT_RECORDED = "Could not record %d receiver runs in the run log (the last: %s)."
NOT_WRITTEN_AT_EXIT = "%d receiver runs were not written to the run log before exit (%s)."


class Drops:
    """
    Counts and logs dropped rows: the first drop of a reason at once, then
    at most one line per ``INTERVAL`` seconds per reason, carrying the rows
    dropped since. ``report()`` (the writer calls it on every pass, and
    before exit) logs those whose interval is over, so that a burst is told
    in full once it ends.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget what was not reported yet (also in a forked child, whose
        parent's lock may be held for good)."""
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}
        self._last: dict[str, str] = {}
        self._next_line_at: dict[str, float] = {}

    def add(self, reason: str, rows: int, what: str) -> None:
        """Drop ``rows`` rows for ``reason`` (one of this module's lines);
        ``what`` says what happened to the last of them."""
        if rows <= 0:
            return
        counters.record_run_log_dropped(rows)
        with self._lock:
            self._rows[reason] = self._rows.get(reason, 0) + rows
            self._last[reason] = what
        self.report()

    def report(self, everything: bool = False) -> None:
        """Log the drops whose reason may have a line now (``everything``:
        all of them, before exit)."""
        now = time.monotonic()
        with self._lock:
            due = [
                reason
                for reason in self._rows
                if everything or now >= self._next_line_at.get(reason, float("-inf"))
            ]
            lines = [(reason, self._rows.pop(reason), self._last.pop(reason)) for reason in due]
            for reason in due:
                self._next_line_at[reason] = now + INTERVAL
        for reason, rows, what in lines:
            logger.warning(
                reason + " This process dropped %d rows in all (stats()['run_log_dropped']).",
                rows,
                what,
                counters.run_log_dropped,
            )


drops = Drops()
process.reset_after_fork(drops.reset)
