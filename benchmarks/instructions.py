"""
Instructions per send, counted by valgrind's callgrind: a figure that does
not drift with the load of a shared machine, unlike CPU time.

    python benchmarks/instructions.py           # needs valgrind on PATH

Each contender runs twice in a fresh process under callgrind, with few and
with many sends; the difference divided by the extra sends is its cost per
send, start-up excluded. AsyncSignal's single worker is kept busy, so the
count is the caller's own work (no thread is woken per send).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

FEW, MANY = 1_000, 11_000

CHILD = r"""
import sys, threading, django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["eventx_signals"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    EVENTX_BACKENDS={"default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend", "OPTIONS": {"queue_size": 10**6, "workers": 1}}},
)
django.setup()
from django.dispatch import Signal
from eventx_signals import AsyncSignal
from eventx_signals.testing import wait_for_events

contender, count = sys.argv[1], int(sys.argv[2])
def noop(sender, **kwargs): pass
release = threading.Event()
def park(sender, **kwargs): release.wait()
signal = AsyncSignal() if contender == "AsyncSignal.send" else Signal()
signal.connect(noop, weak=False)
blocker = AsyncSignal(); blocker.connect(park, weak=False); blocker.send(None)
send = signal.send
for _ in range(count):
    send(None)
import os; os._exit(0)
"""


def instructions(contender: str, count: int) -> int:
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            CHILD,
            contender,
            str(count),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


def main() -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed; nothing measured.")
        return 1
    per_send = {}
    for contender in ("Signal.send (Django)", "AsyncSignal.send"):
        extra = instructions(contender, MANY) - instructions(contender, FEW)
        per_send[contender] = extra / (MANY - FEW)
        print(f"{contender:24s} {per_send[contender]:10,.0f} instructions per send")
    ratio = per_send["AsyncSignal.send"] / per_send["Signal.send (Django)"]
    print(f"{'ratio':24s} {ratio:10.2f}x   (target <= 2.00x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
