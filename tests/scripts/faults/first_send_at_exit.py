"""A process whose send() happens in an atexit handler, after the exit drain.

Usage: first_send_at_exit.py OUTPUT_FILE MODE

The handler is registered before django.setup(), so it runs after every
handler registered later (atexit runs them last in, first out), the exit
drain among them. It sends 50 dispatches of ``exit_signal`` to a receiver
that appends "N THREAD_NAME" to OUTPUT_FILE, then prints "sent".

MODE "first": nothing was sent before, so the handler's send is the first
of the process. MODE "after-other-send": the program sent (and waited for)
one dispatch of another signal before exiting, so the pool already exists.
"""

import atexit
import sys
import threading

output, mode = sys.argv[1], sys.argv[2]


def send_at_exit():
    for n in range(50):
        exit_signal.send(sender=None, n=n)
    print("sent", flush=True)


atexit.register(send_at_exit)

from _child import configure  # noqa: E402

configure()

from eventx_signals import AsyncSignal  # noqa: E402

exit_signal = AsyncSignal()
other_signal = AsyncSignal()


def record(sender, n, **kwargs):
    with open(output, "a") as handle:
        handle.write(f"{n} {threading.current_thread().name}\n")


exit_signal.connect(record)
other_signal.connect(lambda sender, **kwargs: None, weak=False)

if mode == "after-other-send":
    [(_, future)] = other_signal.send(sender=None)
    future.result(10)
elif mode != "first":
    sys.exit(f"unknown mode {mode!r}")
