"""keep_inline and background_receiver: per-receiver control without wrapping."""

import asyncio
import gc
import threading

import pytest
from django.dispatch import Signal, receiver
from django.test import override_settings
from django.utils import inspect as django_inspect

from eventx_signals import AsyncSignal, background_receiver, keep_inline, unpatch_signal
from eventx_signals.testing import wait_for_runs


def test_keep_inline_runs_before_send_returns(signal, recorder):
    calls = []

    @keep_inline
    def invalidate_cache(sender, **kwargs):
        calls.append(threading.current_thread())
        return "invalidated"

    signal.connect(invalidate_cache)
    signal.connect(recorder)
    (inline_receiver, inline_future), (_, background_future) = signal.send(sender=None)
    assert inline_receiver is invalidate_cache
    assert inline_future.done() and inline_future.result() == "invalidated"
    assert calls == [threading.current_thread()]
    background_future.result(5)
    assert recorder.threads[0] is not threading.current_thread()


def test_keep_inline_failure_is_logged_not_raised(signal, caplog):
    @keep_inline
    def broken(sender, **kwargs):
        raise ValueError("inline failure")

    signal.connect(broken)
    [(_, future)] = signal.send(sender=None)
    assert isinstance(future.exception(0), ValueError)
    assert any("inline failure" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_markers_return_the_same_function():
    def plain(sender, **kwargs):
        pass

    async def coroutine(sender, **kwargs):
        pass

    assert keep_inline(plain) is plain
    assert keep_inline(coroutine) is coroutine
    assert asyncio.iscoroutinefunction(keep_inline(coroutine))


@pytest.mark.parametrize("debug", [False, True])
def test_weakly_connected_marked_receiver_is_still_collected(debug):
    signal = Signal()
    with override_settings(DEBUG=debug):

        def make():
            @background_receiver(signal)
            def temporary(sender, **kwargs):
                pass

            return temporary

        temporary = make()
        assert signal.has_listeners()
        del temporary
        # With DEBUG, Django's connect() inspects the receiver's parameters
        # through an lru_cache that keeps any receiver alive, marked or not.
        django_inspect._get_func_parameters.cache_clear()
        gc.collect()
        assert not signal.has_listeners()
    unpatch_signal(signal)

    async_signal = AsyncSignal()

    def make_inline():
        def temporary(sender, **kwargs):
            pass

        return keep_inline(temporary)

    temporary = make_inline()
    async_signal.connect(temporary)
    del temporary
    gc.collect()
    assert not async_signal.has_listeners()


def test_background_receiver_on_a_plain_signal(recorder):
    signal = Signal()
    try:
        ran = []

        @background_receiver(signal, sender="shop")
        def slow_side_effect(sender, **kwargs):
            ran.append(threading.current_thread())
            return "background"

        @receiver(signal, sender="shop")
        def validate(sender, **kwargs):
            return "inline"

        responses = signal.send(sender="shop")
        # The plain receiver behaves exactly as with Django: a value, inline.
        assert responses[0] == (validate, "inline")
        receiver_, future = responses[1]
        assert receiver_ is slow_side_effect
        assert future.result(5) == "background"
        assert ran[0] is not threading.current_thread()
    finally:
        unpatch_signal(signal)


def test_background_receiver_leaves_django_exception_semantics_for_the_rest():
    signal = Signal()
    try:

        @background_receiver(signal)
        def side_effect(sender, **kwargs):
            return "ok"

        def veto(sender, **kwargs):
            raise PermissionError("vetoed")

        signal.connect(veto)
        with pytest.raises(PermissionError):
            signal.send(sender=None)
        robust = signal.send_robust(sender=None)
        assert isinstance(robust[0][1], PermissionError)
        assert robust[1][1].result(5) == "ok"
    finally:
        unpatch_signal(signal)
        wait_for_runs(5)


def test_async_marked_receiver_is_still_detected_as_async():
    signal = Signal()
    try:

        @background_receiver(signal)
        async def coroutine_receiver(sender, **kwargs):
            return "coroutine"

        _sync_receivers, async_receivers = signal._live_receivers(None)
        assert async_receivers == [coroutine_receiver]
        [(_, future)] = signal.send(sender=None)
        assert future.result(5) == "coroutine"
    finally:
        unpatch_signal(signal)


def test_decorators_reject_bad_arguments():
    with pytest.raises(TypeError, match="keep_inline"):
        keep_inline(42)
    with pytest.raises(TypeError, match="must be a Signal"):
        background_receiver("post_save")
