"""The private names of internals.py: each guarded, with a working fallback."""

import subprocess
import sys
import textwrap
from concurrent.futures import Future

from eventx_signals import internals
from eventx_signals.delivery import ReceiverFuture


def test_lazy_future_is_used_where_the_internals_are_there():
    assert internals.FUTURE_STATES == ("PENDING", "RUNNING", "FINISHED")
    assert ReceiverFuture is not Future and issubclass(ReceiverFuture, Future)


def test_plain_futures_when_future_internals_changed():
    # A Python whose concurrent.futures no longer has the names the lazy
    # future relies on: the package falls back to plain futures, and sends
    # still work.
    child = textwrap.dedent(
        """
        import concurrent.futures._base as base
        saved = base.FINISHED
        del base.FINISHED
        import django
        from django.conf import settings
        settings.configure(INSTALLED_APPS=["eventx_signals"])
        django.setup()
        from eventx_signals import AsyncSignal, internals
        base.FINISHED = saved
        from concurrent.futures import Future
        signal = AsyncSignal()
        signal.connect(lambda sender, **kwargs: kwargs["n"] * 2, weak=False)
        [(_, future)] = signal.send(None, n=21)
        print(internals.FUTURE_STATES, type(future) is Future, future.result(5))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["None", "True", "42"], result.stderr


def test_running_loop_and_sender_cache_guards_match_this_version():
    assert internals.running_loop() is None
    assert internals.HAS_SENDER_CACHE
    assert internals.caller_module(0) == __name__


def test_asgiref_thread_local_is_the_one_async_to_sync_reads():
    import threading

    from asgiref.sync import SyncToAsync

    assert isinstance(internals.ASGIREF_THREADLOCAL, threading.local)
    assert internals.ASGIREF_THREADLOCAL is SyncToAsync.threadlocal
