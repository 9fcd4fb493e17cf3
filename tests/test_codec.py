"""The JSON payload codec: what round-trips, and what fails at send time."""

import datetime
import decimal
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eventx_signals.backends.out_of_process import codec
from tests.testapp.models import Order, Shipment


def round_trip(value):
    # Through real JSON text, as an engine stores it.
    return codec.decode(json.loads(json.dumps(codec.encode(value))))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        7,
        2.5,
        "text",
        [1, "a", None],
        {"a": 1, "b": [2, 3]},
        datetime.datetime(2026, 11, 26, 22, 30, 1, 5, tzinfo=datetime.timezone.utc),
        datetime.datetime(2026, 11, 26, 22, 30),
        datetime.date(2026, 11, 26),
        datetime.time(22, 30, 1, 5),
        datetime.timedelta(days=-2, seconds=5, microseconds=7),
        decimal.Decimal("12.340"),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        {1, 2, 3},
        frozenset({"a"}),
        (1, (2, "x")),
        b"\x00\xffbytes",
        {1: "int key", (1, 2): "tuple key"},
        {"$t": "a user's own key"},
        [{"nested": (decimal.Decimal("1.5"), {datetime.date(2026, 1, 1)})}],
    ],
)
def test_values_round_trip_to_the_same_type(value):
    decoded = round_trip(value)
    assert decoded == value
    assert type(decoded) is type(value)


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
def test_non_finite_floats_round_trip(value):
    assert round_trip(value) == value


def test_nan_round_trips():
    decoded = round_trip(float("nan"))
    assert decoded != decoded


def test_subclasses_of_json_types_travel_as_their_value():
    assert round_trip(Shipment.Status.SENT) == "sent"
    assert type(round_trip(Shipment.Status.SENT)) is str


def test_model_classes_travel_as_labels():
    assert codec.encode(Order) == {"$t": "modelclass", "label": "testapp.Order"}
    assert round_trip(Order) is Order


class Unsupported:
    pass


def test_an_unsupported_value_names_its_argument_and_type():
    with pytest.raises(TypeError) as info:
        codec.encode_kwargs({"ok": 1, "request": Unsupported()})
    message = str(info.value)
    assert "'request'" in message
    assert "tests.test_codec.Unsupported" in message


def test_an_unsupported_value_deep_inside_a_container_names_its_argument():
    with pytest.raises(TypeError, match=r"'items'.*builtins\.object"):
        codec.encode_kwargs({"items": [{"a": (1, object())}]})


def test_a_local_class_is_refused():
    class Local:
        pass

    with pytest.raises(TypeError, match="local to a function"):
        codec.encode(Local)


def test_a_class_travels_only_to_a_process_that_imported_it():
    assert round_trip(Unsupported) is Unsupported
    forged = {"$t": "class", "path": "not_imported_anywhere.Thing"}
    with pytest.raises(codec.PayloadError, match="not imported"):
        codec.decode(forged)


@pytest.mark.parametrize(
    "forged",
    [
        {"$t": "pickle", "v": "gASV"},
        {"$t": "decimal", "v": "not a number"},
        {"$t": "timedelta", "v": "abc"},
        {"$t": "bytes", "v": "!!!"},
        {"$t": "model", "label": "nope.Nothing", "pk": 1, "fields": {}},
        {"$t": "model", "label": "testapp.Order", "pk": 1, "fields": {"password": "x"}},
        {"$t": "float", "v": "1e308"},
        {"$t": "set"},
    ],
)
def test_malformed_values_raise_payload_error(forged):
    with pytest.raises(codec.PayloadError):
        codec.decode(forged)


@pytest.mark.django_db
def test_a_model_instance_is_rebuilt_from_its_snapshot_without_a_query():
    order = Order.objects.create(number="A-1", total=decimal.Decimal("9.50"))
    shipment = Shipment.objects.create(
        order=order,
        status=Shipment.Status.SENT,
        sent_at=datetime.datetime(2026, 11, 26, tzinfo=datetime.timezone.utc),
        details={"carrier": "post", "parcels": [1, 2]},
        label="labels/a.pdf",
        weight=decimal.Decimal("1.250"),
    )
    encoded = json.loads(json.dumps(codec.encode(shipment)))
    Shipment.objects.filter(pk=shipment.pk).update(status="packed")  # changed after send
    with CaptureQueriesContext(connection) as queries:
        rebuilt = codec.decode(encoded)
    assert len(queries) == 0
    assert type(rebuilt) is Shipment
    assert rebuilt.pk == shipment.pk and isinstance(rebuilt.pk, uuid.UUID)
    assert rebuilt.status == "sent"  # as it was sent
    assert rebuilt.order_id == order.pk
    assert rebuilt.sent_at == shipment.sent_at
    assert rebuilt.details == {"carrier": "post", "parcels": [1, 2]}
    assert rebuilt.label.name == "labels/a.pdf"
    assert rebuilt.weight == decimal.Decimal("1.250")
    assert rebuilt._state.adding is False and rebuilt._state.db == "default"


@pytest.mark.django_db
def test_refetch_reads_the_row_again_and_falls_back_to_the_snapshot():
    order = Order.objects.create(number="A-2")
    encoded = codec.encode(order)
    Order.objects.filter(pk=order.pk).update(number="changed")
    assert codec.decode(encoded, refetch=True).number == "changed"
    Order.objects.filter(pk=order.pk).delete()
    assert codec.decode(encoded, refetch=True).number == "A-2"


@pytest.mark.django_db
def test_a_deleted_instance_keeps_its_pk_and_deferred_fields_stay_deferred():
    Order.objects.create(number="A-3", total=3)
    order = Order.objects.only("number").get()
    rebuilt = codec.decode(codec.encode(order))
    assert rebuilt.pk == order.pk
    assert rebuilt.get_deferred_fields() == {"total"}


def test_an_unsaved_instance_stays_unsaved():
    rebuilt = round_trip(Order(number="new"))
    assert rebuilt.pk is None and rebuilt._state.adding is True


def test_a_field_value_that_cannot_travel_names_the_field():
    order = Order(number="x")
    order.__dict__["number"] = object()
    with pytest.raises(TypeError, match=r"'order'.*testapp.Order.number"):
        codec.encode_kwargs({"order": order})
