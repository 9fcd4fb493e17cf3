"""Receiver runs as JSON payloads: built at send time, resolved by the worker
only among connected receivers, refused otherwise."""

import json
import logging
import threading
from contextlib import contextmanager

import pytest
from django.db import transaction
from django.db.models.signals import post_save
from django.test import override_settings

from eventx_signals import AsyncSignal, event_listener, patched_signal, stats, trigger_event
from eventx_signals.backends import backends
from eventx_signals.backends.out_of_process import codec, payloads
from eventx_signals.backends.out_of_process.payloads import RefusedPayload, run_payload
from eventx_signals.backends.out_of_process.resend import payload_from_text
from eventx_signals.backends.out_of_process.signing import sign
from eventx_signals.backends.out_of_process.worker import run_payload_in_worker
from eventx_signals.engine.retries import current_attempt, retry
from eventx_signals.testing import eager
from tests.loopback import LoopbackBackend
from tests.testapp.models import Order

LOOPBACK = LoopbackBackend()
#: Module-level signal, so that a worker can find it by its dotted path.
order_shipped = AsyncSignal(backend=LOOPBACK)
calls = []


def on_shipped(sender, order, **kwargs):
    kwargs.pop("signal")
    calls.append((sender, order.number, order.pk, kwargs))
    return order.number


@pytest.fixture
def loopback():
    backend = LOOPBACK
    backend.sent.clear()
    calls.clear()
    order_shipped.connect(on_shipped)
    yield backend
    order_shipped.disconnect(on_shipped)
    backend.sent.clear()


@pytest.mark.django_db(transaction=True)
def test_a_send_becomes_one_payload_per_receiver_and_runs_from_json(loopback):
    order = Order.objects.create(number="S-1")
    [(receiver, future)] = order_shipped.send(sender=Order, order=order, note="fragile")
    assert receiver is on_shipped
    assert future.result(1) == "handle-1"  # the engine's handle
    payload = json.loads(loopback.sent[0])
    assert payload["signal"] == "tests.test_payloads.order_shipped"
    assert payload["receiver"] == "tests.test_payloads.on_shipped"
    order.number = "changed after send"
    assert loopback.run_all() == ["S-1"]
    assert calls == [(Order, "S-1", order.pk, {"note": "fragile"})]


@pytest.mark.django_db(transaction=True)
def test_the_payload_waits_for_commit_and_a_rollback_sends_nothing(loopback):
    with transaction.atomic():
        order = Order.objects.create(number="S-2")
        [(_, future)] = order_shipped.send(sender=Order, order=order)
        assert loopback.sent == [] and not future.done()
    assert len(loopback.sent) == 1 and future.result(1) == "handle-1"
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        order_shipped.send(sender=Order, order=Order.objects.create(number="S-3"))
        raise ZeroDivisionError
    assert len(loopback.sent) == 1


@pytest.mark.django_db
def test_an_argument_that_cannot_travel_fails_the_send_and_nothing_is_sent(loopback):
    order = Order.objects.create(number="S-4")
    with pytest.raises(TypeError, match=r"'request'.*builtins\.object"):
        order_shipped.send(sender=Order, order=order, request=object())
    assert loopback.sent == []


class Handler:
    def __init__(self):
        self.calls = 0

    def method(self, sender, **kwargs):
        self.calls += 1


@pytest.mark.django_db(transaction=True)
def test_receivers_a_worker_cannot_find_run_here_and_never_fail_the_sender(loopback, caplog):
    ran = []

    def closure(sender, **kwargs):
        ran.append(("closure", threading.current_thread().name))

    handler = Handler()
    bad_ones = [
        (lambda sender, **kwargs: ran.append(("lambda", None)), "is a lambda"),
        (closure, "is defined inside a function (a closure)"),
        (handler.method, "is a method bound to one object"),
    ]
    for bad, _ in bad_ones:
        order_shipped.connect(bad)
    before = stats()["fallback"]
    try:
        with caplog.at_level(logging.WARNING, logger="eventx_signals"):
            for _ in range(2):
                order = Order.objects.create(number="S-9")
                responses = order_shipped.send(sender=Order, order=order)
                assert responses[0][0] is on_shipped
                for _, future in responses[1:]:
                    future.result(10)  # ran here, on a thread
    finally:
        for bad, _ in bad_ones:
            order_shipped.disconnect(bad)
    # The findable receiver still goes to the engine; the others ran here.
    assert [json.loads(text)["receiver"] for text in loopback.sent] == [
        "tests.test_payloads.on_shipped"
    ] * 2
    closure_threads = [name for what, name in ran if what == "closure"]
    assert len(closure_threads) == 2
    assert all(name.startswith("eventx-loopback-worker-") for name in closure_threads)
    assert handler.calls == 2
    assert stats()["fallback"] - before == 6
    warnings = [r.getMessage() for r in caplog.records if "could not find it" in r.getMessage()]
    assert len(warnings) == 3  # once per receiver, not per send
    for (_, why), warning in zip(bad_ones, warnings):
        assert why in warning and "it runs in this process" in warning


@pytest.mark.django_db(transaction=True)
def test_a_signal_held_by_no_module_attribute_runs_here(loopback, caplog):
    local = AsyncSignal(backend=LOOPBACK)
    local.connect(on_shipped)
    with caplog.at_level(logging.WARNING, logger="eventx_signals"):
        [(_, future)] = local.send(sender=None, order=Order.objects.create(number="S-8"))
    assert future.result(10) == "S-8"
    assert loopback.sent == []
    assert any("not held by a module attribute" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_receivers_that_run_here_wait_for_the_commit_too(loopback):
    ran = []

    def closure(sender, **kwargs):
        ran.append(kwargs["order"].number)

    order_shipped.connect(closure)
    try:
        with transaction.atomic():
            [_, (_, future)] = order_shipped.send(
                sender=Order, order=Order.objects.create(number="S-7")
            )
            assert not future.done()
        future.result(10)
        assert ran == ["S-7"]
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            [_, (_, future)] = order_shipped.send(
                sender=Order, order=Order.objects.create(number="S-6")
            )
            raise ZeroDivisionError
        assert future.cancelled() and ran == ["S-7"]
    finally:
        order_shipped.disconnect(closure)


def deeply_nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def signed_if_possible(payload):
    """``payload`` signed with the site's key, unless it is no payload of
    this version, or nested deeper than JSON can write."""
    if not (isinstance(payload, dict) and payload.get("v") == 2):
        return payload
    try:
        return sign(dict(payload))
    except RecursionError:
        return payload


@pytest.mark.django_db(transaction=True)
def test_forged_payloads_are_refused_and_logged(loopback, caplog):
    order_shipped.send(sender=Order, order=Order.objects.create(number="S-5"))
    genuine = json.loads(loopback.sent[0])
    forged = [
        {**genuine, "receiver": "os.system"},
        {**genuine, "receiver": "tests.test_payloads.test_forged_payloads_are_refused_and_logged"},
        {**genuine, "signal": "os.environ"},
        {**genuine, "signal": "django.db.models.signals.post_save"},  # not patched
        {**genuine, "v": 99},
        {**genuine, "kwargs": {"order": {"$t": "pickle", "v": "gASV"}}},
        {**genuine, "attempt": 0},
        {**genuine, "kwargs": {**genuine["kwargs"], "sender": 1}},
        {
            **genuine,
            "refetch": True,
            "kwargs": {"order": {**genuine["kwargs"]["order"], "db": "x"}},
        },
        {**genuine, "kwargs": {"deep": deeply_nested(5000)}},
        "not a payload",
    ]
    # Signed with the site's key, as a sender running other code would sign
    # them: every check after the signature's must refuse them.
    forged = [signed_if_possible(p) for p in forged]
    caplog.set_level(logging.ERROR, "eventx_signals")
    for payload in forged:
        with pytest.raises(RefusedPayload):
            run_payload_in_worker(payload)
    assert calls == []
    refusals = [r.getMessage() for r in caplog.records if "Refused a payload" in r.getMessage()]
    assert len(refusals) == len(forged)
    # Each line holds its payload, to be sent again (manage.py eventx resend).
    assert [payload_from_text(line) for line in refusals[:-2]] == forged[:-2]
    # json.dumps() manages 5,000 levels from Python 3.13 on, and not before.
    assert refusals[-2].endswith("Payload: (nested too deeply to show)") or (
        payload_from_text(refusals[-2]) == forged[-2]
    )
    assert refusals[-1].endswith('Payload: "not a payload"')


@pytest.mark.django_db(transaction=True)
def test_a_receiver_connected_for_another_sender_is_not_found(loopback):
    order_shipped.send(sender=Order, order=Order.objects.create(number="S-6"))
    payload = json.loads(loopback.sent[0])
    order_shipped.disconnect(on_shipped)
    order_shipped.connect(on_shipped, sender=AsyncSignal)
    with pytest.raises(RefusedPayload, match="no receiver named"):
        run_payload(payload)


def deliver_welcome(user_name):
    calls.append(user_name)


@pytest.mark.django_db(transaction=True)
def test_named_events_and_patched_signals_travel_too(loopback):
    event_listener("payload_welcome")(deliver_welcome)
    post_save.connect(on_shipped_post_save, sender=Order)
    serialising = {"default": {"BACKEND": "tests.loopback.LoopbackBackend"}}
    try:
        with (
            override_settings(EVENTX_BACKENDS=serialising),
            patched_signal(post_save, senders=[Order]),
        ):
            default = backends["default"]
            trigger_event("payload_welcome", user_name="ada")
            Order.objects.create(number="S-7")
            payloads = [json.loads(text) for text in default.sent]
            ours = [p for p in payloads if p["receiver"].startswith("tests.test_payloads.")]
            assert [p.get("event") or p["signal"] for p in ours] == [
                "payload_welcome",
                "django.db.models.signals.post_save",
            ]
            default.sent[:] = [json.dumps(p) for p in ours]
            assert calls == []
            assert default.run_all() == [None, None]
    finally:
        post_save.disconnect(on_shipped_post_save, sender=Order)
    assert calls == ["ada", ("post_save", "S-7", True)]


def on_shipped_post_save(sender, instance, created, **kwargs):
    calls.append(("post_save", instance.number, created))


@pytest.mark.django_db
def test_eager_round_trips_the_payload(loopback):
    with eager():
        with pytest.raises(TypeError, match="'request'"):
            order_shipped.send(sender=Order, order=Order(number="E-1"), request=object())
        order = Order.objects.create(number="E-2")
        [(_, future)] = order_shipped.send(sender=Order, order=order, when={1, 2})
    assert future.result(0) == "E-2"
    sender, number, pk, kwargs = calls[0]
    assert (sender, number, pk, kwargs) == (Order, "E-2", order.pk, {"when": {1, 2}})
    assert loopback.sent == []


attempts = []


@retry(max_attempts=3, backoff=5, retry_on=[ConnectionError])
def flaky(sender, **kwargs):
    attempts.append(current_attempt())
    if current_attempt() < 3:
        raise ConnectionError("mail server away")
    return "sent"


def test_retries_are_new_payloads_with_the_attempt_number(loopback, caplog):
    attempts.clear()
    order_shipped.connect(flaky)
    try:
        order_shipped.send(sender=None, order=Order(number="R-1"))
        results = loopback.run_all()
    finally:
        order_shipped.disconnect(flaky)
    assert attempts == [1, 2, 3]
    assert results[-1] == "sent"
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("attempt 1 of 3; retrying in 5 s" in m for m in messages)
    assert any("attempt 2 of 3; retrying in 10 s" in m for m in messages)


@pytest.mark.django_db(transaction=True)
def test_unsigned_and_altered_payloads_are_refused_before_anything_else(loopback, caplog):
    from django.contrib.auth.models import User

    order_shipped.send(sender=Order, order=Order.objects.create(number="S-10"))
    genuine = json.loads(loopback.sent[0])
    admin = json.loads(json.dumps(codec.encode(User(username="mallory", is_superuser=True))))
    unsigned = {key: value for key, value in genuine.items() if key != "sig"}
    altered = {**genuine, "kwargs": {**genuine["kwargs"], "order": admin}}
    caplog.set_level(logging.ERROR, "eventx_signals")
    forged_signatures = [{**genuine, "sig": sig} for sig in ("0" * 64, "é" * 64, "\ud800")]
    for payload in (unsigned, altered, *forged_signatures):
        with pytest.raises(RefusedPayload, match="signature is missing or does not match"):
            run_payload_in_worker(payload)
    assert calls == []
    assert loopback.run_all() == ["S-10"]  # the genuine one still runs


@pytest.mark.django_db(transaction=True)
def test_a_rotated_secret_key_still_verifies_through_the_fallbacks(loopback):
    with override_settings(SECRET_KEY="old-key-" * 8):
        order_shipped.send(sender=Order, order=Order.objects.create(number="S-11"))
    signed_with_old_key = json.loads(loopback.sent.pop())
    with override_settings(SECRET_KEY="new-key-" * 8, SECRET_KEY_FALLBACKS=["old-key-" * 8]):
        assert run_payload_in_worker(signed_with_old_key) == "S-11"
    with (
        override_settings(SECRET_KEY="new-key-" * 8, SECRET_KEY_FALLBACKS=[]),
        pytest.raises(RefusedPayload, match="signature"),
    ):
        run_payload_in_worker(signed_with_old_key)


def test_a_class_path_never_runs_a_module_getattr_hook():
    from tests.testapp import lazy_module

    lazy_module.asked.clear()
    with pytest.raises(codec.PayloadError, match="not a class of an imported module"):
        codec.decode({"$t": "class", "path": "tests.testapp.lazy_module.Anything"})
    assert lazy_module.asked == []


#: A signal that caches receivers by sender, in a weak map, as model signals do.
cached_by_sender = AsyncSignal(use_caching=True, backend=LOOPBACK)


@pytest.mark.django_db(transaction=True)
def test_a_sender_a_caching_signal_cannot_hold_is_refused_not_raised(loopback, caplog):
    cached_by_sender.connect(on_shipped)
    try:
        cached_by_sender.send(sender=Order, order=Order.objects.create(number="S-12"))
        genuine = json.loads(loopback.sent.pop())
        forged = sign({**genuine, "sender": "a str cannot be weakly referenced"})
        caplog.set_level(logging.ERROR, "eventx_signals")
        with pytest.raises(RefusedPayload, match="cannot be a sender"):
            run_payload_in_worker(forged)
        assert any("Refused a payload" in r.getMessage() for r in caplog.records)
    finally:
        cached_by_sender.disconnect(on_shipped)


# -- what Django adds, and what an instance had loaded ----------------------------

deletions = []


@contextmanager
def loopback_alias():
    """EVENTX_BACKENDS with a "loopback" alias; yields its backend."""
    with override_settings(
        EVENTX_BACKENDS={
            "default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
            "loopback": {"BACKEND": "tests.loopback.LoopbackBackend"},
        }
    ):
        yield backends["loopback"]


def on_shipment_deleted(sender, instance, origin=None, **kwargs):
    deletions.append((instance.pk, origin))


@pytest.mark.django_db(transaction=True)
def test_a_queryset_delete_deletes_and_its_origin_travels_as_a_description(caplog):
    """Django passes post_delete the QuerySet a delete started from
    (origin=); it cannot travel, and used to fail every queryset delete
    (the admin's "delete selected" included) with TypeError."""
    from django.db.models.signals import post_delete

    from eventx_signals.backends.out_of_process.codec import ArgumentDescription
    from tests.testapp.models import Shipment

    order = Order.objects.create(number="D-1")
    for _ in range(3):
        Shipment.objects.create(order=order)
    post_delete.connect(on_shipment_deleted, sender=Shipment)
    deletions.clear()
    caplog.set_level(logging.WARNING, "eventx_signals")
    payloads.log_described.forget()  # logged once per process: an earlier test may have
    try:
        with loopback_alias() as loop, patched_signal(post_delete, backend="loopback"):
            Shipment.objects.filter(order=order).delete()  # raised TypeError
            assert not Shipment.objects.exists()
            mine = [text for text in loop.sent if ".on_shipment_deleted" in text]
            assert len(mine) == 3
            loop.run_all()
    finally:
        post_delete.disconnect(on_shipment_deleted, sender=Shipment)
    origins = [origin for _, origin in deletions]
    assert len(origins) == 3
    assert origins[0] == ArgumentDescription(
        type_name="django.db.models.query.QuerySet", model=Shipment, using="default"
    )
    warnings = [r.getMessage() for r in caplog.records if "ArgumentDescription" in r.getMessage()]
    assert len(warnings) == 1 and "'origin'" in warnings[0]


@pytest.mark.django_db(transaction=True)
def test_an_instance_delete_sends_its_origin_as_the_instance():
    from django.db.models.signals import post_delete

    from tests.testapp.models import Shipment

    shipment = Shipment.objects.create(order=Order.objects.create(number="D-2"))
    post_delete.connect(on_shipment_deleted, sender=Shipment)
    deletions.clear()
    try:
        with loopback_alias() as loop, patched_signal(post_delete, backend="loopback"):
            shipment.delete()
            loop.run_all()
    finally:
        post_delete.disconnect(on_shipment_deleted, sender=Shipment)
    [(pk, origin)] = deletions
    assert isinstance(origin, Shipment) and origin.pk == pk


related_seen = []


def on_shipped_with_order(sender, shipment, **kwargs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        related_seen.append((shipment.order.number, len(queries)))


shipment_sent = AsyncSignal(backend=LOOPBACK)
shipment_sent_here = AsyncSignal()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["out of process", "thread"])
def test_related_objects_loaded_at_send_time_are_seen_as_they_were(backend):
    """One level of the instance's loaded related objects travels with it:
    on every backend the receiver sees shipment.order as it was at send time,
    without a query (the workers of the other backends used to query again
    and see later values, or DoesNotExist)."""
    from tests.testapp.models import Shipment

    shipment = Shipment.objects.create(order=Order.objects.create(number="R-1"))
    shipment = Shipment.objects.select_related("order").get(pk=shipment.pk)
    signal = shipment_sent if backend == "out of process" else shipment_sent_here
    related_seen.clear()
    LOOPBACK.sent.clear()
    gate = threading.Event()

    def wait_for_the_gate(sender, **kwargs):
        gate.wait(10)

    if backend == "thread":  # holds the worker until the caller changed the order
        signal.connect(wait_for_the_gate)
    signal.connect(on_shipped_with_order)
    try:
        responses = signal.send(sender=Shipment, shipment=shipment)
        shipment.order.number = "changed after send"  # in memory
        Order.objects.update(number="changed in db")
        if backend == "out of process":
            LOOPBACK.run_all()
        else:
            gate.set()
            for _, future in responses:
                future.result(10)
    finally:
        signal.disconnect(on_shipped_with_order)
        signal.disconnect(wait_for_the_gate)
        LOOPBACK.sent.clear()
    assert related_seen == [("R-1", 0)]
