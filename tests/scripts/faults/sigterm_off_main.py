"""SIGTERM in a process whose pool was started by a thread other than the main one.

Usage: sigterm_off_main.py OUTPUT_FILE COUNT [--slow]
       sigterm_off_main.py --idle

Like a threaded server: the app is installed (so AppConfig.ready() runs in
the main thread), the main thread waits (as in an accept loop) and a second
thread sends COUNT dispatches to a receiver that sleeps 1 ms and appends a
line to OUTPUT_FILE (with --slow: 5 ms, so that the drain takes seconds),
then prints "sent". The parent then sends SIGTERM.

With --idle nothing is ever sent: the script prints "ready" and waits.
"""

import sys
import threading
import time

from _child import configure, say

configure({"workers": 2}, EVENTX_SHUTDOWN_TIMEOUT=60)

if sys.argv[1:] == ["--idle"]:
    say("ready")
    threading.Event().wait(60)
    sys.exit("not stopped by SIGTERM within 60 seconds")

from eventx_signals import AsyncSignal  # noqa: E402

output, count = sys.argv[1], int(sys.argv[2])
pause = 0.005 if sys.argv[3:] == ["--slow"] else 0.001
lock = threading.Lock()
signal = AsyncSignal()


def slow(sender, n, **kwargs):
    time.sleep(pause)
    with lock, open(output, "a") as handle:
        handle.write(f"{n}\n")


signal.connect(slow)


def request_thread():
    for n in range(count):
        signal.send(sender=None, n=n)
    say("sent")


threading.Thread(target=request_thread, name="request-thread").start()
threading.Event().wait(60)  # the "accept loop", until SIGTERM
sys.exit("not stopped by SIGTERM within 60 seconds")
