"""SIGTERM taken by a thread other than the main one, while the main thread
waits without a timeout.

Usage: sigterm_to_another_thread.py OUTPUT_FILE COUNT

The kernel hands a signal sent to the process to any thread that does not
block it; this script makes that happen every time: a sender thread queues
COUNT dispatches to a receiver that sleeps 10 ms and appends a line to
OUTPUT_FILE, then directs SIGTERM at itself and prints "signalled". The main
thread waits on an Event, with no timeout, for ever.
"""

import signal as os_signal
import sys
import threading
import time

from _child import configure, say

configure({"workers": 2}, EVENTX_SHUTDOWN_TIMEOUT=60)

from eventx_signals import AsyncSignal  # noqa: E402

output, count = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()
signal = AsyncSignal()


def slow(sender, n, **kwargs):
    time.sleep(0.01)
    with lock, open(output, "a") as handle:
        handle.write(f"{n}\n")


signal.connect(slow)


def sender():
    for n in range(count):
        signal.send(sender=None, n=n)
    os_signal.pthread_kill(threading.get_ident(), os_signal.SIGTERM)
    say("signalled")


threading.Thread(target=sender).start()
threading.Event().wait()
