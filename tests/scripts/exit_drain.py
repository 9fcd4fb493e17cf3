"""Send slow events, then exit normally: the pool must drain before exit.

Usage: exit_drain.py OUTPUT_FILE COUNT SLEEP_SECONDS SHUTDOWN_TIMEOUT
"""

import sys
import time

import django
from django.conf import settings

output, count, sleep, shutdown_timeout = (
    sys.argv[1],
    int(sys.argv[2]),
    float(sys.argv[3]),
    float(sys.argv[4]),
)
settings.configure(
    INSTALLED_APPS=["eventx_signals"],
    EVENTX_SHUTDOWN_TIMEOUT=shutdown_timeout,
    EVENTX_BACKENDS={
        "default": {
            "BACKEND": "eventx_signals.backends.thread.ThreadBackend",
            "OPTIONS": {"workers": 4},
        }
    },
)
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
print("sent", flush=True)
