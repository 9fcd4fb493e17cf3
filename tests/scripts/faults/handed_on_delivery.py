"""A delivery queued on a pool that was replaced meanwhile, and the counters.

Usage: handed_on_delivery.py

Reproduces, deterministically, what override_settings(EVENTX_BACKENDS=...)
can do to a send running in another thread: the sender has checked that the
pool is open, the backend is replaced (backends.reset() closes the old pool
before it started any worker), then the sender queues its delivery. The old
pool hands it on to the new backend. Prints the receiver's result, stats()
and whether wait_for_runs() returns.
"""

from _child import configure, result

configure({"workers": 1})

from eventx_signals import AsyncSignal, stats  # noqa: E402
from eventx_signals.backends import backends  # noqa: E402
from eventx_signals.testing import wait_for_runs  # noqa: E402

signal = AsyncSignal()
signal.connect(lambda sender, **kwargs: "ran", weak=False)

old = backends["default"].pool
start = old._start  # the step of submit() between its check and its put
hook_ran = []


def replaced_meanwhile():
    hook_ran.append(True)
    backends.reset()  # what override_settings does in another thread
    start()


old._start = replaced_meanwhile
[(_, future)] = signal.send(sender=None)
value = future.result(5)
try:
    wait_for_runs(10)
    waited = "returned"
except TimeoutError as exc:
    waited = f"TimeoutError: {exc}"
result(hook_ran=bool(hook_ran), value=value, stats=stats(), wait_for_runs=waited)
