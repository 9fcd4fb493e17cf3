"""Replace the backend (override_settings) while 8 threads send.

Usage: replace_backend.py SENDS_PER_THREAD TOGGLES

8 threads send SENDS_PER_THREAD dispatches each, every one with a key of
its own, while the main thread enters override_settings(EVENTX_BACKENDS=...)
TOGGLES times, alternating between two ThreadBackend option sets (each
entry and exit replaces the backend). The GIL switch interval is made tiny
so that threads interleave inside send() as they would on a busy server.
Prints how many sends there were, how many futures were not done 10
seconds later, and how many times each key's receiver ran.
"""

import collections
import sys
import threading
from concurrent.futures import wait

from _child import backend_settings, configure, result

per_thread, toggles = int(sys.argv[1]), int(sys.argv[2])
configure({"workers": 2, "queue_size": 100}, EVENTX_SHUTDOWN_TIMEOUT=5)

from django.test import override_settings  # noqa: E402

from eventx_signals import AsyncSignal  # noqa: E402

signal = AsyncSignal()  # the default alias: replaced by every override
runs = collections.Counter()
lock = threading.Lock()


def count(sender, key, **kwargs):
    with lock:
        runs[key] += 1


signal.connect(count)
option_sets = [{"workers": 2, "queue_size": 100}, {"workers": 3, "queue_size": 50}]
futures = [[] for _ in range(8)]
go = threading.Barrier(9)
sent_during_toggles = []


def send(index):
    go.wait()
    for n in range(per_thread):
        futures[index].extend(future for _, future in signal.send(None, key=f"{index}-{n}"))


sys.setswitchinterval(1e-5)
senders = [threading.Thread(target=send, args=(index,)) for index in range(8)]
for thread in senders:
    thread.start()
go.wait()
for toggle in range(toggles):
    with override_settings(**backend_settings(**option_sets[toggle % 2])):
        pass
sent_during_toggles = sum(map(len, futures))
for thread in senders:
    thread.join(60)
sys.setswitchinterval(0.005)

every = [future for chunk in futures for future in chunk]
done, not_done = wait(every, timeout=10)
result(
    senders_alive=sum(thread.is_alive() for thread in senders),
    sent=len(every),
    sent_during_toggles=sent_during_toggles,
    not_done=len(not_done),
    cancelled=sum(1 for future in done if future.cancelled()),
    keys_run=len(runs),
    runs_per_key=sorted(set(runs.values())),
)
