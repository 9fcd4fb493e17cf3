"""
Scenario 6's child: a burst of 10 x queue_size sends into a ThreadBackend
with ``when_full`` = POLICY, from 4 threads, each send carrying a fresh
100 kB buffer (so a queue that grew without bound would show in memory).
The first run on each worker waits until RELEASE_AFTER runs have been made
in the sending threads, or until every sender is done (the queue stands
still meanwhile: with "block", senders must give up after block_timeout and
run their receivers themselves); the others take 5 ms. Meanwhile a yardstick
thread does what a send that waits out block_timeout costs here and now: a
wait of block_timeout on a condition nobody notifies, then a 5 ms receiver,
back to back. Prints one line ``RESULT {json}``.

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
RELEASE_AFTER = 6 * SENDERS  # runs in senders that end the stalled runs
STALL_DEADLINE = 60.0  # seconds: the stalled runs end then whatever happened
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
senders_done = 0
lock = threading.Lock()
changed = threading.Condition(lock)  # notified as ran_in_sender, senders_done grow
release = threading.Event()  # ends the stalled runs
in_sender = threading.local()  # per sender: runs made in this thread


def receiver(sender, blob, **kwargs):
    global ran_in_sender, stalled
    name = threading.current_thread().name
    with lock:
        stall = stalled < WORKERS and name.startswith("eventx-")
        stalled += stall
        if name.startswith("sender-"):
            ran_in_sender += 1
            in_sender.runs = getattr(in_sender, "runs", 0) + 1
            changed.notify_all()
    if stall:
        release.wait(STALL_DEADLINE)
    else:
        time.sleep(RECEIVER_SECONDS)


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
wait_for_runs(60)
stalled = 0
before = stats()
rss_before_kb = memory_kb("VmRSS")
tracemalloc.start()
traced_before = tracemalloc.get_traced_memory()[0]
durations: list[tuple[float, bool]] = []  # (seconds, ran its receivers itself)
futures: list = []


def send_many(count: int) -> None:
    global senders_done
    mine, own_futures = [], []
    for _ in range(count):
        blob = bytearray(BLOB)  # a fresh buffer per send, referenced by its dispatch only
        runs_before = getattr(in_sender, "runs", 0)
        began = time.perf_counter()
        responses = burst.send(sender=None, blob=blob)
        inline = getattr(in_sender, "runs", 0) > runs_before
        mine.append((time.perf_counter() - began, inline))
        own_futures += [future for _, future in responses]
        del blob, responses
    with lock:
        durations.extend(mine)
        futures.extend(own_futures)
        senders_done += 1
        changed.notify_all()


yardstick: list[float] = []
burst_over = threading.Event()


def measure_yardstick() -> None:
    """A send that waits out block_timeout and runs a receiver, as this
    process can do it while the burst runs: its scheduling, its GIL, the
    machine's stalls."""
    nobody = threading.Condition()
    while not burst_over.is_set():
        began = time.perf_counter()
        with nobody:
            nobody.wait(BLOCK_TIMEOUT)
        time.sleep(RECEIVER_SECONDS)
        yardstick.append(time.perf_counter() - began)


began = time.monotonic()
threads = [
    threading.Thread(target=send_many, args=(SENT // SENDERS,), name=f"sender-{n}")
    for n in range(SENDERS)
]
measurer = threading.Thread(target=measure_yardstick, name="yardstick")
measurer.start()
for thread in threads:
    thread.start()
with lock:
    changed.wait_for(
        lambda: ran_in_sender >= RELEASE_AFTER or senders_done == SENDERS, STALL_DEADLINE
    )
    released_by = (
        "runs in senders"
        if ran_in_sender >= RELEASE_AFTER
        else "senders done"
        if senders_done == SENDERS
        else "deadline"
    )
release.set()
for thread in threads:
    thread.join(120)
burst_over.set()
measurer.join(60)
burst_seconds = time.monotonic() - began
wait_for_runs(60)
traced_peak = tracemalloc.get_traced_memory()[1] - traced_before
tracemalloc.stop()
after = stats()
delta = {
    key: after[key] - before[key]
    for key in ("dispatched", "succeeded", "failed", "dropped", "inline")
}
all_sends = sorted(seconds for seconds, _ in durations)
inline_sends = sorted(seconds for seconds, inline in durations if inline)
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
            "released_by": released_by,
            "sent": len(durations),
            "burst_seconds": burst_seconds,
            "stats": delta,
            "pending": after["pending"],
            "running": after["running"],
            "cancelled": sum(1 for f in futures if f.cancelled()),
            "done": sum(1 for f in futures if f.done()),
            "ran_in_sender": ran_in_sender,
            "send_max_s": all_sends[-1],
            "send_p99_s": all_sends[int(0.99 * (len(all_sends) - 1))],
            "sends_that_waited": sum(1 for d in all_sends if d > 0.001),
            "inline_sends_s": inline_sends,
            "yardstick_s": sorted(yardstick),
            "traced_peak_bytes": traced_peak,
            "rss_growth_bytes": (memory_kb("VmHWM") - rss_before_kb) * 1024,
        }
    ),
    flush=True,
)
