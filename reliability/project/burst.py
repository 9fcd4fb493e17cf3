"""
Scenario 6's child: a burst of 10 x queue_size sends into a ThreadBackend
with ``when_full`` = POLICY, from 4 threads, each send carrying a fresh
100 kB buffer (so a queue that grew without bound would show in memory).
The first run on each worker takes STALL seconds (the queue stands still
meanwhile: with "block", senders must give up after block_timeout); the
others 5 ms. Prints one line ``RESULT {json}``.

    python burst.py block|inline|drop
"""

import json
import sys
import threading
import time
import tracemalloc

import django
from django.conf import settings

POLICY = sys.argv[1]
QUEUE_SIZE = 100
SENT = 10 * QUEUE_SIZE
SENDERS = 4
WORKERS = 2
BLOCK_TIMEOUT = 0.25
RECEIVER_SECONDS = 0.005
STALL = 2.0
BLOB = 100_000

settings.configure(
    INSTALLED_APPS=["eventx_signals"],
    EVENTX_BACKENDS={
        "default": {
            "BACKEND": "eventx_signals.backends.thread.ThreadBackend",
            "OPTIONS": {
                "workers": WORKERS,
                "queue_size": QUEUE_SIZE,
                "when_full": POLICY,
                "block_timeout": BLOCK_TIMEOUT,
                "max_extra_workers": 0,
            },
        }
    },
    LOGGING={"version": 1, "loggers": {"eventx_signals": {"level": "CRITICAL"}}},
)
django.setup()

from eventx_signals import AsyncSignal, stats  # noqa: E402
from eventx_signals.testing import wait_for_runs  # noqa: E402

burst = AsyncSignal()
ran_in_sender = 0
stalled = 0
lock = threading.Lock()


def receiver(sender, blob, **kwargs):
    global ran_in_sender, stalled
    with lock:
        stall = stalled < WORKERS and threading.current_thread().name.startswith("eventx-")
        stalled += stall
    time.sleep(STALL if stall else RECEIVER_SECONDS)
    if threading.current_thread().name.startswith("sender-"):
        with lock:
            ran_in_sender += 1


burst.connect(receiver)


def memory_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


# Start the pool first: its threads are not part of the burst.
stalled = WORKERS
burst.send(sender=None, blob=b"")
wait_for_runs(10)
stalled = 0
before = stats()
rss_before_kb = memory_kb("VmRSS")
tracemalloc.start()
traced_before = tracemalloc.get_traced_memory()[0]
durations: list[float] = []
futures: list = []


def send_many(count: int) -> None:
    mine, own_futures = [], []
    for _ in range(count):
        blob = bytearray(BLOB)  # a fresh buffer per send, referenced by its dispatch only
        began = time.perf_counter()
        responses = burst.send(sender=None, blob=blob)
        mine.append(time.perf_counter() - began)
        own_futures += [future for _, future in responses]
        del blob, responses
    with lock:
        durations.extend(mine)
        futures.extend(own_futures)


began = time.monotonic()
threads = [
    threading.Thread(target=send_many, args=(SENT // SENDERS,), name=f"sender-{n}")
    for n in range(SENDERS)
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(120)
burst_seconds = time.monotonic() - began
wait_for_runs(60)
traced_peak = tracemalloc.get_traced_memory()[1] - traced_before
tracemalloc.stop()
after = stats()
delta = {
    key: after[key] - before[key]
    for key in ("dispatched", "succeeded", "failed", "dropped", "inline")
}
durations.sort()
print(
    "RESULT "
    + json.dumps(
        {
            "policy": POLICY,
            "queue_size": QUEUE_SIZE,
            "senders": SENDERS,
            "workers": WORKERS,
            "blob": BLOB,
            "block_timeout": BLOCK_TIMEOUT,
            "receiver_seconds": RECEIVER_SECONDS,
            "stall": STALL,
            "sent": len(durations),
            "burst_seconds": burst_seconds,
            "stats": delta,
            "pending": after["pending"],
            "running": after["running"],
            "cancelled": sum(1 for f in futures if f.cancelled()),
            "done": sum(1 for f in futures if f.done()),
            "ran_in_sender": ran_in_sender,
            "send_max_s": durations[-1],
            "send_p99_s": durations[int(0.99 * (len(durations) - 1))],
            "sends_that_waited": sum(1 for d in durations if d > 0.001),
            "traced_peak_bytes": traced_peak,
            "rss_growth_bytes": (memory_kb("VmHWM") - rss_before_kb) * 1024,
        }
    ),
    flush=True,
)
