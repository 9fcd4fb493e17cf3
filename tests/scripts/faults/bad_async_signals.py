"""Start-up with a bad EVENTX_ASYNC_SIGNALS, then run the system checks.

Usage: bad_async_signals.py object-in-list
       bad_async_signals.py dict-with-bad-entry {bare|senders-key}

object-in-list: EVENTX_ASYNC_SIGNALS = [post_save] (the object, not its path).
dict-with-bad-entry: a bad entry for pre_delete, whose senders are 5 (bare:
{"...pre_delete": 5}; senders-key: {"...pre_delete": {"senders": 5}}),
before a valid entry for post_delete (every sender).

Prints whether django.setup() succeeded, the ids and messages of the
system checks, and for the dict form where a receiver of post_delete ran.
"""

import sys
import threading

from _child import configure, result
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db.models.signals import post_delete, post_save

mode = sys.argv[1]
if mode == "object-in-list":
    value = [post_save]
elif mode == "dict-with-bad-entry":
    bad = {"bare": 5, "senders-key": {"senders": 5}}[sys.argv[2]]
    value = {
        "django.db.models.signals.pre_delete": bad,
        "django.db.models.signals.post_delete": None,
    }
else:
    sys.exit(f"unknown mode {mode!r}")

try:
    configure(EVENTX_ASYNC_SIGNALS=value)
except Exception as exc:
    result(setup=f"{type(exc).__name__}: {exc}")
    sys.exit(0)

try:
    call_command("check")
    check_output = ""
except SystemCheckError as exc:
    check_output = str(exc)

ran_in = None
if mode == "dict-with-bad-entry":

    def where(sender, **kwargs):
        return threading.current_thread().name

    post_delete.connect(where)
    responses = post_delete.send(sender=object, instance=None, origin=None, using="default")
    [(_, response)] = responses
    # Patched: a future; not patched: the return value, computed in this thread.
    ran_in = response.result(10) if hasattr(response, "result") else f"not patched ({response})"

result(setup="ok", check_output=check_output, ran_in=ran_in)
