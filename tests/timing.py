"""The baseline of the few tests that bound how long something takes.

A bound in seconds alone fails whenever the machine stalls (a shared
machine's does, for a second or more now and then), which says nothing of
the code under test. So such a bound adds how late a thread of this process
woke up while the code ran: a stall of the machine, of this process or of
its GIL delays that thread and the code alike.
"""

from __future__ import annotations

import threading
import time

INTERVAL = 0.01  # seconds between the yardstick's wake-ups


class Lateness:
    """Context manager: a thread that waits INTERVAL seconds again and again
    while the block runs, recording how late each wait ended. ``worst`` is
    the latest, in seconds."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lateness", daemon=True)

    def _run(self) -> None:
        while True:
            began = time.monotonic()
            if self._stop.wait(INTERVAL):
                return
            self.worst = max(self.worst, time.monotonic() - began - INTERVAL)

    def __enter__(self) -> Lateness:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
