"""EVENTX_RECORD_KWARGS: keyword arguments are recorded without running any of
their own code (a __str__ or __repr__ may query the database or raise), and a
value that cannot be shown costs at most the arguments' text, never the row."""

import datetime
import decimal
import uuid

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject

from eventx_signals import AsyncSignal
from eventx_signals.backends.immediate import ImmediateBackend
from eventx_signals.models import ReceiverRun
from eventx_signals.runlog import writer
from eventx_signals.runlog.safe_repr import safe_repr
from tests.testapp.models import Order, Shipment

pytestmark = pytest.mark.django_db(transaction=True)

calls = []


class Raises:
    def __str__(self):
        calls.append("Raises.__str__")
        raise RuntimeError("no text for you")

    __repr__ = __str__


class Queries:
    """A __str__ like a model's that reads a related object."""

    def __str__(self):
        calls.append("Queries.__str__")
        return f"{Order.objects.count()} orders"

    __repr__ = __str__


def noop(sender, **kwargs):
    return None


@pytest.fixture
def recorded_kwargs():
    """Send on a signal whose receiver runs, and is recorded, in this thread
    (the receiver's thread is the test's); return the kwargs text of each
    row, and the queries this thread made while sending."""
    calls.clear()
    writer.flush()
    # A backend, not the alias "immediate": a signal naming an alias lives on
    # until a garbage collection, and the system checks tests would see it.
    signal = AsyncSignal(backend=ImmediateBackend(), on_commit=False)
    signal.connect(noop, weak=False)

    def send(**kwargs):
        with (
            override_settings(EVENTX_RECORD_RUNS=True, EVENTX_RECORD_KWARGS=True),
            CaptureQueriesContext(connection) as queries,
        ):
            [(_, future)] = signal.send(sender=Order, **kwargs)
        assert future.result(0) is None
        writer.flush()
        texts = list(ReceiverRun.objects.order_by("pk").values_list("kwargs", flat=True))
        return texts, [query["sql"] for query in queries]

    return send


def test_values_whose_str_raises_or_queries_are_recorded_without_running_it(recorded_kwargs):
    texts, queries = recorded_kwargs(bad=Raises(), slow=Queries(), lazy=SimpleLazyObject(Queries))
    assert calls == []  # neither __str__ nor __repr__ ran, nor the lazy object's set-up
    assert queries == []  # no query on the receiver's thread
    assert texts == [
        "{'bad': <tests.test_run_log_kwargs.Raises object>,"
        " 'slow': <tests.test_run_log_kwargs.Queries object>,"
        " 'lazy': <django.utils.functional.SimpleLazyObject object>}"
    ]


def test_model_instances_show_their_label_and_pk_without_loading_anything(recorded_kwargs):
    order = Order.objects.create(number="K-1")
    shipment = Shipment.objects.create(order=order)
    shipment = Shipment.objects.only("id").get()  # order_id deferred, order not loaded
    texts, queries = recorded_kwargs(instance=shipment, origin=order, model=Shipment)
    assert queries == []
    assert texts == [
        f"{{'instance': <testapp.Shipment pk={shipment.pk!r}>,"
        f" 'origin': <testapp.Order pk={order.pk}>,"
        " 'model': tests.testapp.models.Shipment}"
    ]


def test_known_types_show_as_their_repr():
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    key = uuid.UUID(int=7)
    value = {
        "text": "o'k",
        "status": Shipment.Status.SENT,  # a str subclass: its value
        "numbers": [1, 2.5, True, None, decimal.Decimal("9.90")],
        "when": (when, datetime.date(2026, 1, 2), datetime.timedelta(seconds=3)),
        "ids": {key},
        "nested": [[[[["deep"]]]]],
        "empty": (set(), frozenset(), ()),
    }
    assert safe_repr(value, 2000) == (
        "{'text': \"o'k\", 'status': 'sent', 'numbers': [1, 2.5, True, None, Decimal('9.90')],"
        f" 'when': ({when!r}, datetime.date(2026, 1, 2), datetime.timedelta(seconds=3)),"
        f" 'ids': {{{key!r}}}, 'nested': [[[...]]], 'empty': (set(), frozenset(), ())}}"
    )


def test_big_values_are_bounded():
    assert safe_repr(list(range(1000)), 2000) == repr(list(range(50)))[:-1] + ", ...]"
    assert len(safe_repr(["x" * 10_000] * 10, 2000)) < 2100
    assert safe_repr(10**5000, 100) == "<builtins.int object>"  # too long for str()


def test_a_failure_to_show_the_arguments_costs_only_their_text(recorded_kwargs, monkeypatch):
    from eventx_signals.runlog import rows

    def broken(value, limit):
        raise RuntimeError("cannot")

    monkeypatch.setattr(rows, "safe_repr", broken)
    texts, _ = recorded_kwargs(n=1)
    assert texts == ["<not recorded: RuntimeError>"]  # the row is there
