"""Log lines that could repeat thousands of times a second, rate-limited."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger("eventx_signals")


class RateLimitedLog:
    """Log the first occurrence at once, then at most one line per
    ``interval`` seconds carrying the count of occurrences since."""

    def __init__(self, level: int, interval: float = 10.0) -> None:
        self.level = level
        self.interval = interval
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._suppressed = 0

    def __call__(self, message: str, *args: Any, extra: Mapping[str, Any] | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next_at:
                self._suppressed += 1
                return
            suppressed, self._suppressed = self._suppressed, 0
            self._next_at = now + self.interval
        if suppressed:
            message += " (%d more such events in the last %s seconds.)"
            args = (*args, suppressed, self.interval)
        logger.log(self.level, message, *args, extra=extra)


class LogOnce:
    """Log a line once per key for the life of the process (a receiver a
    worker cannot find, an argument that cannot travel...): what matters is
    that it happens, and it happens on every send."""

    def __init__(self, level: int) -> None:
        self.level = level
        self._lock = threading.Lock()
        self._seen: set[object] = set()

    def __call__(
        self, key: object, message: str, *args: Any, extra: Mapping[str, Any] | None = None
    ) -> bool:
        """Log ``message % args`` if ``key`` was not logged yet; return
        whether it was logged now."""
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
        logger.log(self.level, message, *args, extra=extra)
        return True

    def forget(self) -> None:
        """Log every key again (tests that look for the line)."""
        with self._lock:
            self._seen.clear()
