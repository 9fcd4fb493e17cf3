"""Queue slow events, say so, then wait to be stopped with SIGTERM.

Usage: sigterm_drain.py OUTPUT_FILE COUNT SLEEP_SECONDS
"""

import sys
import threading
import time

import django
from django.conf import settings

output, count, sleep = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
settings.configure(INSTALLED_APPS=["eventx_signals"], EVENTX_SHUTDOWN_TIMEOUT=60)
django.setup()

from eventx_signals import AsyncSignal  # noqa: E402

signal = AsyncSignal()


def slow(sender, n, **kwargs):
    time.sleep(sleep)
    with open(output, "a") as handle:
        handle.write(f"{n}\n")


signal.connect(slow)
for n in range(count):
    signal.send(sender=None, n=n)
print("queued", flush=True)
threading.Event().wait(120)  # until SIGTERM
