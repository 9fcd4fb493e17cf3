"""AsyncSignal: the Signal API, returning futures at once."""

import asyncio
import contextvars
import gc
import logging
import sys
import threading
from concurrent.futures import Future

import pytest
from django.dispatch import Signal, receiver

from eventx_signals import AsyncSignal
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.testing import wait_for_runs

request_id = contextvars.ContextVar("request_id", default=None)


def test_is_a_django_signal(signal):
    assert isinstance(signal, Signal)


def test_send_returns_before_a_blocked_receiver_finishes(signal, gate):
    signal.connect(gate)
    [(rec, future)] = signal.send(sender=None)
    assert rec is gate
    assert isinstance(future, Future)
    assert gate.entered.wait(5)
    assert not future.done()
    gate.open()
    assert future.result(5) is None


def test_futures_resolve_to_return_values_in_connection_order(signal):
    def first(sender, **kwargs):
        return "first"

    def second(sender, **kwargs):
        return "second"

    signal.connect(first)
    signal.connect(second)
    responses = signal.send(sender=None)
    assert [r for r, _ in responses] == [first, second]
    assert [f.result(5) for _, f in responses] == ["first", "second"]


def test_receivers_of_one_dispatch_run_in_connection_order(signal):
    order = []
    names = [f"r{i}" for i in range(10)]
    receivers = []
    for name in names:

        def record(sender, _name=name, **kwargs):
            order.append(_name)

        receivers.append(record)
        signal.connect(record)
    signal.send(sender=None)
    wait_for_runs(5)
    assert order == names


def test_receivers_get_signal_sender_and_kwargs(signal, recorder):
    signal.connect(recorder)
    signal.send(sender="the-sender", a=1, b="two")
    wait_for_runs(5)
    assert recorder.calls == [("the-sender", {"signal": signal, "a": 1, "b": "two"})]


def test_receivers_run_off_the_calling_thread(signal, recorder):
    signal.connect(recorder)
    signal.send(sender=None)
    wait_for_runs(5)
    assert recorder.threads[0] is not threading.current_thread()


def test_exception_goes_to_the_future_not_the_caller(signal, recorder):
    def broken(sender, **kwargs):
        raise ValueError("boom")

    signal.connect(broken)
    signal.connect(recorder)
    (_, failed), (_, ok) = signal.send(sender=None)
    with pytest.raises(ValueError, match="boom"):
        failed.result(5)
    assert ok.result(5) == 1


def test_send_robust_futures_resolve_to_the_exception(signal, caplog):
    error = ValueError("robust boom")

    def broken(sender, **kwargs):
        raise error

    signal.connect(broken)
    with caplog.at_level(logging.ERROR):
        [(_, future)] = signal.send_robust(sender=None)
        assert future.result(5) is error
        wait_for_runs(5)
    django_records = [r for r in caplog.records if r.name == "django.dispatch"]
    assert len(django_records) == 1
    assert "send_robust" in django_records[0].getMessage()
    assert django_records[0].exc_info[1] is error


def test_no_receivers_returns_empty_list(signal):
    assert signal.send(sender=None) == []
    assert signal.send_robust(sender=None) == []


def test_receiver_for_another_sender_is_not_called(signal, recorder):
    signal.connect(recorder, sender="a")
    assert signal.send(sender="b") == []
    assert len(signal.send(sender="a")) == 1


def test_disconnect_and_dispatch_uid(signal, recorder):
    signal.connect(recorder, dispatch_uid="uid")
    signal.connect(recorder, dispatch_uid="uid")
    assert len(signal.send(sender=None)) == 1
    assert signal.disconnect(dispatch_uid="uid")
    assert not signal.has_listeners()
    assert signal.send(sender=None) == []


def test_receiver_decorator_connects(signal, recorder):
    @receiver(signal, sender="s")
    def handler(sender, **kwargs):
        return "decorated"

    [(_, future)] = signal.send(sender="s")
    assert future.result(5) == "decorated"


def test_weakly_connected_receiver_is_collected(signal):
    def make():
        def temporary(sender, **kwargs):
            pass

        return temporary

    temporary = make()
    signal.connect(temporary)
    assert signal.has_listeners()
    del temporary
    gc.collect()
    assert not signal.has_listeners()
    assert signal.send(sender=None) == []


def test_use_caching(recorder):
    signal = AsyncSignal(use_caching=True)
    signal.connect(recorder, sender=object)
    assert signal.send(sender=int) == []
    assert len(signal.send(sender=object)) == 1


def test_async_receiver_runs_on_worker(signal):
    async def coroutine_receiver(sender, **kwargs):
        await asyncio.sleep(0)
        return ("async", kwargs["value"])

    signal.connect(coroutine_receiver)
    [(_, future)] = signal.send(sender=None, value=3)
    assert future.result(5) == ("async", 3)


def test_sync_receivers_run_before_async_ones(signal):
    order = []

    async def async_first(sender, **kwargs):
        order.append("async")

    def sync_second(sender, **kwargs):
        order.append("sync")

    signal.connect(async_first)
    signal.connect(sync_second)
    signal.send(sender=None)
    wait_for_runs(5)
    assert order == ["sync", "async"]


def test_sender_contextvars_are_visible(signal):
    seen = []

    def read_context(sender, **kwargs):
        seen.append(request_id.get())

    signal.connect(read_context)
    token = request_id.set("req-42")
    try:
        signal.send(sender=None)
    finally:
        request_id.reset(token)
    wait_for_runs(5)
    assert seen == ["req-42"]


def test_receivers_of_one_dispatch_share_one_context(signal):
    seen = []
    marker = contextvars.ContextVar("marker", default="unset")

    def writer(sender, **kwargs):
        marker.set("written")

    def reader(sender, **kwargs):
        seen.append(marker.get())

    signal.connect(writer)
    signal.connect(reader)
    signal.send(sender=None)
    wait_for_runs(5)
    assert seen == ["written"]
    assert marker.get() == "unset"


def test_cancelled_future_skips_its_receiver(gate):
    backend = ThreadBackend(options={"workers": 1})
    blocker = AsyncSignal(backend=backend)
    blocker.connect(gate)
    signal = AsyncSignal(backend=backend)
    calls = []
    signal.connect(lambda sender, **kw: calls.append(1), weak=False)
    blocker.send(sender=None)
    assert gate.entered.wait(5)
    [(_, future)] = signal.send(sender=None)
    assert future.cancel()
    gate.open()
    wait_for_runs(5)
    assert calls == []
    backend.close(timeout=5)


def test_asend_returns_while_receiver_is_blocked(signal, gate):
    signal.connect(gate)

    async def main():
        # If asend() waited for its receiver it would never return: the gate
        # opens only after it has.
        responses = await asyncio.wait_for(signal.asend(sender=None), timeout=5)
        [(_, future)] = responses
        # The receiver is running, blocked, on a worker; this loop is free.
        entered = await asyncio.get_running_loop().run_in_executor(None, gate.entered.wait, 5)
        assert entered
        assert not future.done()
        gate.open()
        return await asyncio.wrap_future(future)

    assert asyncio.run(main()) is None


def test_asend_robust(signal):
    error = KeyError("k")

    async def broken(sender, **kwargs):
        raise error

    signal.connect(broken)

    async def main():
        [(_, future)] = await signal.asend_robust(sender=None)
        return await asyncio.wrap_future(future)

    assert asyncio.run(main()) is error


def test_constructor_rejects_bad_arguments():
    with pytest.raises(TypeError, match="backend"):
        AsyncSignal(backend=3)
    with pytest.raises(TypeError, match="on_commit"):
        AsyncSignal(on_commit="yes")


@pytest.mark.skipif(
    sys.version_info < (3, 11), reason="Python 3.10 tasks cannot run in a given context"
)
def test_async_and_sync_receivers_of_one_dispatch_share_one_context(signal):
    counter = contextvars.ContextVar("counter", default=0)
    seen = []

    def sync_step(sender, **kwargs):
        counter.set(counter.get() + 1)
        seen.append(counter.get())

    async def async_step(sender, **kwargs):
        counter.set(counter.get() + 1)
        seen.append(counter.get())

    async def async_step_again(sender, **kwargs):
        counter.set(counter.get() + 1)
        seen.append(counter.get())

    for receiver_ in (sync_step, async_step, async_step_again):
        signal.connect(receiver_)
    signal.send(sender=None)
    wait_for_runs(5)
    assert seen == [1, 2, 3]
