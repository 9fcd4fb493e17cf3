"""patch_signal: existing Signal instances dispatch in the background."""

import threading

import pytest
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal, receiver

from eventx_signals import (
    AsyncSignal,
    patch_signal,
    patched_signal,
    unpatch_signal,
)
from eventx_signals.dispatch.patching import is_patched
from eventx_signals.testing import wait_for_runs
from tests.testapp.models import Order


@pytest.fixture
def plain():
    signal = Signal()
    yield signal
    unpatch_signal(signal)


def test_patched_send_returns_futures_and_runs_off_thread(plain, recorder):
    plain.connect(recorder)
    patch_signal(plain)
    [(_rec, future)] = plain.send(sender="s", x=1)
    assert future.result(5) == 1
    assert recorder.threads[0] is not threading.current_thread()
    assert recorder.calls == [("s", {"signal": plain, "x": 1})]


def test_unpatch_restores_django_behaviour_and_leaves_no_attribute(plain, recorder):
    plain.connect(recorder)
    before = dict(vars(plain))
    patch_signal(plain)
    unpatch_signal(plain)
    assert vars(plain).keys() == before.keys()
    assert plain.send(sender=None) == [(recorder, 1)]
    assert recorder.threads == [threading.current_thread()]
    assert not is_patched(plain)


def test_patching_twice_wraps_once(plain, recorder):
    plain.connect(recorder)
    patch_signal(plain)
    patch_signal(plain)
    [(_, future)] = plain.send(sender=None)
    assert future.result(5) == 1
    unpatch_signal(plain)
    assert plain.send(sender=None) == [(recorder, 2)]


def test_only_this_instance_is_patched(plain, recorder):
    class_methods = {name: vars(Signal)[name] for name in ("send", "send_robust")}
    other = Signal()
    other.connect(recorder)
    plain.connect(recorder)
    patch_signal(plain)
    # The patched instance dispatches in the background...
    [(_, future)] = plain.send(sender=None)
    assert future.result(5) == 1
    assert recorder.threads[0] is not threading.current_thread()
    assert "send" in vars(plain)  # an instance attribute: the wrapper
    # ...while another instance, and the class, are Django's untouched.
    assert other.send(sender=None) == [(recorder, 2)]
    assert recorder.threads[1] is threading.current_thread()
    assert {name: vars(Signal)[name] for name in class_methods} == class_methods


def test_receivers_stay_connected_to_the_real_signal(plain, recorder):
    plain.connect(recorder, sender=Order)
    patch_signal(plain)
    assert plain.has_listeners(Order)
    assert not plain.has_listeners(int)


def test_senders_restrict_background_to_some_models(plain, recorder):
    plain.connect(recorder)
    patch_signal(plain, senders=["testapp.Order"])
    [(_, future)] = plain.send(sender=Order)
    assert future.result(5) == 1
    assert recorder.threads[0] is not threading.current_thread()
    assert plain.send(sender=int) == [(recorder, 2)]  # inline, Django's result
    assert recorder.threads[1] is threading.current_thread()


def test_context_manager(recorder):
    signal = Signal()
    signal.connect(recorder)
    with patched_signal(signal):
        [(_, future)] = signal.send(sender=None)
        future.result(5)
    assert not is_patched(signal)
    assert signal.send(sender=None) == [(recorder, 2)]


def test_async_signal_cannot_be_patched():
    with pytest.raises(TypeError, match="already an AsyncSignal"):
        patch_signal(AsyncSignal())
    with pytest.raises(TypeError, match="must be a Signal"):
        patch_signal("django.db.models.signals.post_save")
    with pytest.raises(TypeError, match="senders must be a list"):
        patch_signal(Signal(), senders=42)
    with pytest.raises(TypeError, match="senders must hold"):
        patch_signal(Signal(), senders=[3])


def test_patched_asend(plain):
    import asyncio

    async def handler(sender, **kwargs):
        return "async"

    plain.connect(handler)
    patch_signal(plain)

    async def main():
        [(_, future)] = await plain.asend(sender=None)
        return await asyncio.wrap_future(future)

    assert asyncio.run(main()) == "async"


@pytest.mark.django_db(transaction=True)
class TestModelSignals:
    def test_post_save_receiver_sees_django_arguments(self):
        seen = []

        @receiver(post_save, sender=Order)
        def on_save(sender, instance, created, update_fields, raw, using, **kwargs):
            seen.append((sender, instance.number, created, update_fields, raw, using))

        with patched_signal(post_save, senders=[Order]):
            order = Order.objects.create(number="P-1")
            order.save(update_fields=["number"])
            wait_for_runs(5)
        post_save.disconnect(on_save, sender=Order)
        assert seen == [
            (Order, "P-1", True, None, False, "default"),
            (Order, "P-1", False, frozenset({"number"}), False, "default"),
        ]

    def test_post_delete_receiver_sees_the_deleted_pk(self):
        seen = []

        @receiver(post_delete, sender=Order)
        def on_delete(sender, instance, **kwargs):
            seen.append(instance.pk)

        with patched_signal(post_delete):
            order = Order.objects.create(number="D-1")
            pk = order.pk
            order.delete()
            wait_for_runs(5)
        post_delete.disconnect(on_delete, sender=Order)
        assert seen == [pk]

    def test_save_returns_before_a_slow_receiver_finishes(self, gate):
        post_save.connect(gate, sender=Order)
        try:
            with patched_signal(post_save):
                Order.objects.create(number="S-1")  # returns though gate is shut
                assert gate.entered.wait(5)
                gate.open()
                wait_for_runs(5)
        finally:
            post_save.disconnect(gate, sender=Order)


def test_m2m_changed_pre_actions_stay_inline(recorder):
    m2m_changed.connect(recorder)
    try:
        with patched_signal(m2m_changed):
            inline = m2m_changed.send(sender=Order, action="pre_add", instance=None)
            background = m2m_changed.send(sender=Order, action="post_add", instance=None)
            wait_for_runs(5)
    finally:
        m2m_changed.disconnect(recorder)
    assert inline == [(recorder, 1)]
    assert background[0][1].result(5) == 2
    assert recorder.threads[0] is threading.current_thread()
    assert recorder.threads[1] is not threading.current_thread()
