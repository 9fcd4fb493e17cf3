"""Exit with queued work and a non-finite EVENTX_SHUTDOWN_TIMEOUT.

Usage: shutdown_timeout.py OUTPUT_FILE COUNT TIMEOUT   (TIMEOUT: inf, nan, ...)

Queues COUNT dispatches to a receiver that sleeps 5 ms and appends a line to
OUTPUT_FILE, prints "sent" and exits normally: the exit drain must finish
them, taking the default timeout in place of the unusable one.
"""

import sys
import time

from _child import configure, say

output, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
configure({"workers": 2}, EVENTX_SHUTDOWN_TIMEOUT=timeout)

from eventx_signals import AsyncSignal  # noqa: E402

signal = AsyncSignal()


def slow(sender, n, **kwargs):
    time.sleep(0.005)
    with open(output, "a") as handle:
        handle.write(f"{n}\n")


signal.connect(slow)
for n in range(count):
    signal.send(sender=None, n=n)
say("sent")
