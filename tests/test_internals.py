"""The private names of internals.py: each probed for the behaviour assumed,
each with a fallback where its behaviour differs (checked in a child process
whose Python or Django is made to differ)."""

import asyncio
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import Future

import pytest
from asgiref.sync import SyncToAsync
from django.dispatch import Signal
from django.dispatch.dispatcher import NO_RECEIVERS

from eventx_signals import internals
from eventx_signals.engine.futures import ReceiverFuture


def run_child(before_import, after_setup):
    """Run code in a fresh Python: ``before_import`` changes something, then
    Django is set up with the app, then ``after_setup`` prints findings."""
    child = textwrap.dedent(before_import) + textwrap.dedent(
        """
        import django
        from django.conf import settings
        settings.configure(INSTALLED_APPS=["eventx_signals"])
        django.setup()
        """
    )
    child += textwrap.dedent(after_setup)
    return subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)


def test_this_python_and_django_pass_every_probe():
    assert internals.FUTURE_STATES == ("PENDING", "RUNNING", "FINISHED")
    assert ReceiverFuture is not Future and issubclass(ReceiverFuture, Future)
    assert internals.running_loop is asyncio._get_running_loop
    assert internals.NO_RECEIVERS is NO_RECEIVERS
    assert internals.HAS_SENDER_CACHE
    assert internals.caller_module(0) == __name__
    assert internals.ASGIREF_THREADLOCAL is SyncToAsync.threadlocal
    assert internals.model_state_keeps_fields_cache()


def test_the_running_loop_is_seen_inside_a_loop_only():
    assert internals.running_loop() is None

    async def inside():
        return internals.running_loop() is asyncio.get_running_loop()

    assert asyncio.run(inside())


def test_plain_futures_when_future_internals_changed():
    # A Python whose concurrent.futures no longer has the names the lazy
    # future relies on: plain futures, and sends still work.
    result = run_child(
        """
        import concurrent.futures._base as base
        saved = base.FINISHED
        del base.FINISHED
        """,
        """
        from eventx_signals import AsyncSignal, internals
        base.FINISHED = saved
        from concurrent.futures import Future
        signal = AsyncSignal()
        signal.connect(lambda sender, **kwargs: kwargs["n"] * 2, weak=False)
        [(_, future)] = signal.send(None, n=21)
        print(internals.FUTURE_STATES, type(future) is Future, future.result(5))
        """,
    )
    assert result.stdout.split() == ["None", "True", "42"], result.stderr


def test_plain_futures_when_the_lazy_future_misbehaves():
    # The names are there, but a Future whose set_result() works otherwise
    # (its callbacks not called from where the lazy future expects): the
    # behavioural probe turns the lazy future down.
    result = run_child(
        """
        from concurrent.futures import Future
        Future._invoke_callbacks = lambda self: None
        """,
        """
        from concurrent.futures import Future
        from eventx_signals.engine.futures import ReceiverFuture
        print(ReceiverFuture is Future)
        """,
    )
    assert result.stdout.split() == ["True"], result.stderr


def test_no_fast_path_where_django_caches_no_receivers_otherwise():
    result = run_child(
        """
        from django.dispatch import Signal
        original = Signal._live_receivers

        def live_receivers(self, sender):  # a Django that caches nothing per sender
            found = original(self, sender)
            self.sender_receivers_cache.clear()
            return found

        Signal._live_receivers = live_receivers
        """,
        """
        from django.dispatch.dispatcher import NO_RECEIVERS
        from eventx_signals import AsyncSignal, internals
        signal = AsyncSignal(use_caching=True)
        signal.connect(lambda sender, **kwargs: "ran", weak=False, sender=int)
        print(internals.NO_RECEIVERS is NO_RECEIVERS, signal.send(str), signal.send(int)[0][1].result(5))
        """,
    )
    assert result.stdout.split() == ["False", "[]", "ran"], result.stderr


def test_a_django_whose_live_receivers_changed_is_refused_at_import():
    result = run_child(
        """
        from django.dispatch import Signal
        original = Signal._live_receivers
        Signal._live_receivers = lambda self, sender: [*original(self, sender)[0]]
        """,
        """
        """,
    )
    assert result.returncode != 0
    assert "Signal._live_receivers(sender) no longer returns" in result.stderr
    assert "It supports Django 5.2, 6.0 and 6.1." in result.stderr


def test_related_objects_are_not_copied_where_model_state_keeps_them_elsewhere():
    result = run_child(
        """
        """,
        """
        from django.db.models.base import ModelState
        del ModelState.fields_cache  # a Django without the cache as assumed
        from eventx_signals.internals import model_state_keeps_fields_cache
        print(model_state_keeps_fields_cache())
        """,
    )
    assert result.stdout.split() == ["False"], result.stderr


@pytest.mark.parametrize("works", [True, False])
def test_the_asgiref_probe_leaves_this_threads_loop_as_it_was(works):
    # Whatever the probe finds, the importing thread's own values stay.
    threadlocal = SyncToAsync.threadlocal
    marker = object()
    threadlocal.main_event_loop = marker
    try:
        assert internals._asgiref_threadlocal() is threadlocal
        assert threadlocal.main_event_loop is marker
    finally:
        del threadlocal.main_event_loop
    assert not hasattr(threadlocal, "main_event_loop_pid")


def test_the_stack_of_another_thread_is_found():
    started, release = threading.Event(), threading.Event()

    def parked():
        started.set()
        release.wait(10)

    thread = threading.Thread(target=parked)
    thread.start()
    try:
        assert started.wait(10)
        assert "in parked" in internals.thread_stack(thread.ident)
    finally:
        release.set()
        thread.join()
    assert internals.thread_stack(-1) == "(stack unknown)\n"


def test_caching_signals_hold_no_receivers_as_the_fast_path_reads_it():
    signal = Signal(use_caching=True)

    class Sender:
        pass

    signal.connect(lambda sender, **kwargs: None, sender=int, weak=False)
    signal.send(sender=Sender)
    assert signal.sender_receivers_cache.get(Sender) is internals.NO_RECEIVERS


def test_the_opentelemetry_provider_slots_are_read_without_a_call():
    from opentelemetry import metrics, trace
    from opentelemetry.metrics import _internal

    assert internals.TRACER_PROVIDER.holder is trace
    assert internals.TRACER_PROVIDER.attribute == "_TRACER_PROVIDER"
    assert internals.METER_PROVIDER.holder is _internal
    assert not internals.TRACER_PROVIDER.is_set()  # this process sets no SDK
    assert metrics.get_meter_provider() is not None


def test_the_public_getter_tells_whether_a_provider_is_set_where_the_slot_misleads():
    completed = run_child(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        # An API that keeps its provider elsewhere: the slot stays None.
        exporter = InMemorySpanExporter()
        elsewhere = TracerProvider()
        elsewhere.add_span_processor(SimpleSpanProcessor(exporter))
        trace.get_tracer_provider = lambda: elsewhere
        """,
        """
        from eventx_signals import AsyncSignal, internals
        from eventx_signals.core import tracing
        from eventx_signals.testing import wait_for_runs
        slot = internals.TRACER_PROVIDER
        signal = AsyncSignal()
        signal.connect(lambda sender, **kwargs: None, weak=False)
        signal.send(sender=None)
        wait_for_runs(10)
        kinds = sorted(span.kind.name for span in exporter.get_finished_spans())
        print(slot.attribute, slot.is_set(), tracing.enabled(), *kinds)
        """,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["public_provider", "True", "True", "CONSUMER", "PRODUCER"]
