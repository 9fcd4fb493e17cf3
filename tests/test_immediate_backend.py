import asyncio
import threading

from django.test import override_settings

from eventx_signals import AsyncSignal

IMMEDIATE = {"default": {"BACKEND": "eventx_signals.backends.immediate.ImmediateBackend"}}


def test_runs_inline_before_send_returns(recorder):
    signal = AsyncSignal(backend="immediate")
    signal.connect(recorder)
    [(_, future)] = signal.send(sender=None)
    assert future.done() and future.result() == 1
    assert recorder.threads == [threading.current_thread()]


def test_failure_goes_to_the_future(caplog):
    signal = AsyncSignal(backend="immediate")

    def broken(sender, **kwargs):
        raise ValueError("inline boom")

    signal.connect(broken)
    [(_, future)] = signal.send(sender=None)
    assert isinstance(future.exception(0), ValueError)
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)


def test_async_receiver_from_sync_and_async_callers():
    signal = AsyncSignal(backend="immediate")

    async def coroutine_receiver(sender, **kwargs):
        return "done"

    signal.connect(coroutine_receiver)
    assert signal.send(sender=None)[0][1].result(0) == "done"

    async def main():
        [(_, future)] = await signal.asend(sender=None)
        assert future.done()
        # A sync send from inside a running loop still completes inline.
        [(_, inline)] = signal.send(sender=None)
        return future.result(), inline.result(0)

    assert asyncio.run(main()) == ("done", "done")


@override_settings(EVENTX_BACKENDS=IMMEDIATE)
def test_setting_switches_every_signal_without_restart(signal, recorder):
    signal.connect(recorder)
    signal.send(sender=None)
    assert recorder.threads == [threading.current_thread()]


def test_immediate_backend_takes_no_options():
    from eventx_signals.checks import check_backends

    with override_settings(
        EVENTX_BACKENDS={"default": {**IMMEDIATE["default"], "OPTIONS": {"workers": 2}}}
    ):
        [message] = [m for m in check_backends() if m.id == "eventx_signals.E003"]
    assert "Unknown option 'workers'" in message.msg
