"""Receivers see model instances as they were when sent."""

import pytest

from eventx_signals import AsyncSignal
from eventx_signals.backends.thread import ThreadBackend
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def one_worker_signal(gate):
    backend = ThreadBackend(options={"workers": 1})
    blocker = AsyncSignal(backend=backend)
    blocker.connect(gate)
    signal = AsyncSignal(backend=backend)
    yield signal, blocker
    gate.open()
    backend.close(timeout=10)


def seen_fields(sender, instance, **kwargs):
    return (instance.pk, instance.number)


def test_later_mutation_is_not_seen(one_worker_signal, gate):
    signal, blocker = one_worker_signal
    signal.connect(seen_fields)
    order = Order.objects.create(number="before")
    blocker.send(sender=None)
    assert gate.entered.wait(5)
    [(_, future)] = signal.send(sender=Order, instance=order)
    order.number = "after"
    order.save()
    gate.open()
    assert future.result(10) == (order.pk, "before")


def test_deleted_instance_keeps_its_pk(one_worker_signal, gate):
    signal, blocker = one_worker_signal
    signal.connect(seen_fields)
    order = Order.objects.create(number="gone")
    pk = order.pk
    blocker.send(sender=None)
    assert gate.entered.wait(5)
    [(_, future)] = signal.send(sender=Order, instance=order)
    order.delete()
    assert order.pk is None
    gate.open()
    assert future.result(10) == (pk, "gone")


def test_instances_inside_lists_and_mutable_containers_are_copied(one_worker_signal, gate):
    signal, blocker = one_worker_signal

    def seen(sender, orders, tags, **kwargs):
        return [o.number for o in orders], sorted(tags)

    signal.connect(seen)
    orders = [Order(number="one"), Order(number="two")]
    tags = {"a"}
    blocker.send(sender=None)
    assert gate.entered.wait(5)
    [(_, future)] = signal.send(sender=None, orders=orders, tags=tags)
    orders[0].number = "changed"
    orders.append(Order(number="three"))
    tags.add("b")
    gate.open()
    assert future.result(10) == (["one", "two"], ["a"])
