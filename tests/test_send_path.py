"""One thread-backend send, followed through the package: the modules whose
code runs in the sending thread, in the order it runs (the import direction
of the layers is checked by import-linter: setup.cfg, [importlinter]).

In a child process, so that it is the usual send: nothing marked
``keep_inline``, no test helper on, as in a fresh web process."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, threading
import django
django.setup()
from eventx_signals import AsyncSignal
from eventx_signals.testing import wait_for_runs
from tests.testapp.models import Order

signal = AsyncSignal()
signal.connect(lambda sender, **kwargs: None, weak=False)


def send():
    signal.send(sender=Order, instance=Order(number="P-1"), created=True)


send()  # the first one starts the worker pool
wait_for_runs()
seen = []
me = threading.get_ident()


def profile(frame, event, arg):
    if event == "call" and threading.get_ident() == me:
        path = frame.f_code.co_filename.replace("\\\\", "/")
        if "/eventx_signals/" in path:
            module = path.split("/eventx_signals/", 1)[1]
            if not seen or seen[-1] != module:
                seen.append(module)


sys.setprofile(profile)
send()
sys.setprofile(None)
wait_for_runs()
print(json.dumps(seen))
"""


def test_a_send_runs_through_six_modules_each_once_in_layer_order():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.splitlines()[-1]) == [
        "dispatch/signals.py",  # AsyncSignal.send: the fast path for no receivers
        "dispatch/sending.py",  # prepare and route, then the backend's dispatch
        "engine/snapshot.py",  # the instance as it is now
        "engine/delivery.py",  # the delivery: receivers, futures, context
        "core/transactions.py",  # inside a transaction? then wait for its commit
        "backends/thread/pool.py",  # onto the queue
    ]
