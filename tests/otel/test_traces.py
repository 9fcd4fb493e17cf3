"""Traces: a request's span, the dispatch's PRODUCER span and each attempt's
CONSUMER span form one trace, on the thread backend and across the hop to a
real db_worker and a real Celery worker."""

import asyncio
import decimal

import pytest
from django.db import transaction

from eventx_signals import AsyncSignal, current_dispatch_id, keep_inline, retry
from eventx_signals.testing import wait_for_runs
from tests.otel_spans import read_span_file
from tests.testapp.models import Order, Receipt
from tests.testapp.signals import order_paid_celery, order_paid_tasks
from tests.workers import celery_worker, redis_url, run_db_worker_until_idle, wait_until


def by_name(records, name):
    return [record for record in records if record["name"] == name]


def label(signal):
    from eventx_signals.core.labels import signal_label

    return signal_label(signal)


order_shipped = AsyncSignal()


def test_a_request_span_a_dispatch_span_and_a_run_span_make_one_trace(spans, tracer):
    seen = {}

    def ship(sender, **kwargs):
        seen["dispatch"] = current_dispatch_id()
        with tracer.start_as_current_span("carrier call"):
            pass

    order_shipped.connect(ship)
    try:
        with tracer.start_as_current_span("GET /orders/7/ship") as request:
            [(_, future)] = order_shipped.send(sender=Order, number="7")
        future.result(10)
        wait_for_runs(10)
    finally:
        order_shipped.disconnect(ship)
    records = spans()
    [root] = by_name(records, "GET /orders/7/ship")
    [send] = by_name(records, f"send {label(order_shipped)}")
    [process] = by_name(records, f"process {label(order_shipped)}")
    [inner] = by_name(records, "carrier call")
    trace_id = f"{request.get_span_context().trace_id:032x}"
    assert {r["trace_id"] for r in (root, send, process, inner)} == {trace_id}
    assert send["kind"] == "PRODUCER" and send["parent_span_id"] == root["span_id"]
    assert process["kind"] == "CONSUMER" and process["parent_span_id"] == send["span_id"]
    assert inner["parent_span_id"] == process["span_id"]  # the receiver's own span nests
    assert send["attributes"]["messaging.operation.type"] == "send"
    assert send["attributes"]["messaging.destination.name"] == label(order_shipped)
    assert send["attributes"]["eventx.backend"] == "default"
    assert process["attributes"] == {
        "messaging.system": "django_eventx",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": label(order_shipped),
        "messaging.message.id": seen["dispatch"],
        "eventx.receiver": f"{__name__}.test_a_request_span_a_dispatch_span_and_a_run_span_make_one_trace.<locals>.ship",
        "eventx.sender": "testapp.Order",
        "eventx.backend": "default",
        "eventx.attempt": 1,
        "eventx.dispatch_id": seen["dispatch"],
    }
    assert process["status"] == "UNSET"


def test_each_failed_attempt_is_an_error_span_of_its_own(spans, tracer, signal):
    attempts = []

    @retry(max_attempts=3, backoff=0)
    def flaky(sender, **kwargs):
        attempts.append(current_dispatch_id())
        raise ConnectionError(f"attempt {len(attempts)}")

    signal.connect(flaky)
    with tracer.start_as_current_span("request"):
        [(_, future)] = signal.send(sender=None)
    with pytest.raises(ConnectionError, match="attempt 3"):
        future.result(10)
    wait_for_runs(10)
    records = spans()
    [send] = by_name(records, f"send {label(signal)}")
    runs = by_name(records, f"process {label(signal)}")
    assert [r["attributes"]["eventx.attempt"] for r in runs] == [1, 2, 3]
    assert [r["status"] for r in runs] == ["ERROR"] * 3
    assert all(r["events"] == ["exception"] for r in runs)
    assert {r["parent_span_id"] for r in runs} == {send["span_id"]}
    assert [r["attributes"].get("eventx.retry_in") for r in runs] == [0.0, 0.0, None]
    assert len(set(attempts)) == 1 and attempts[0] == send["attributes"]["eventx.dispatch_id"]


def test_a_receiver_kept_inline_runs_in_a_span_of_the_request(spans, tracer, signal):
    @keep_inline
    def audit(sender, **kwargs):
        return current_dispatch_id()

    signal.connect(audit)
    with tracer.start_as_current_span("request") as request:
        [(_, future)] = signal.send(sender=None)
    assert future.result(0)  # it ran in send()
    [process] = by_name(spans(), f"process {label(signal)}")
    assert process["trace_id"] == f"{request.get_span_context().trace_id:032x}"
    assert process["parent_span_id"] == f"{request.get_span_context().span_id:016x}"
    assert process["attributes"]["eventx.backend"] == "inline"


def test_asend_is_traced_as_send(spans, tracer, signal):
    signal.connect(lambda sender, **kwargs: None, weak=False)

    async def view():
        with tracer.start_as_current_span("async request") as request:
            [(_, future)] = await signal.asend(sender=None)
        return request, future

    request, future = asyncio.run(view())
    future.result(10)
    wait_for_runs(10)
    records = spans()
    [send] = by_name(records, f"send {label(signal)}")
    [process] = by_name(records, f"process {label(signal)}")
    assert send["parent_span_id"] == f"{request.get_span_context().span_id:016x}"
    assert process["parent_span_id"] == send["span_id"]


def test_a_send_that_fails_ends_its_span_with_the_error(spans, tracer):
    # An argument that cannot travel to a worker fails the send.
    with pytest.raises(TypeError, match="cannot be sent"):
        order_paid_tasks.send(sender=Order, order=object())
    [send] = by_name(spans(), f"send {label(order_paid_tasks)}")
    assert send["status"] == "ERROR" and send["events"] == ["exception"]


@pytest.mark.django_db(transaction=True)
def test_the_trace_continues_in_a_db_worker(spans, tracer, tmp_path):
    span_file = tmp_path / "worker-spans.jsonl"
    order = Order.objects.create(number="T-1", total=decimal.Decimal("9.50"))
    with tracer.start_as_current_span("POST /orders/T-1/pay") as request, transaction.atomic():
        order_paid_tasks.send(sender=Order, order=order)
    run_db_worker_until_idle(EVENTX_TEST_SPAN_FILE=str(span_file))
    assert Receipt.objects.get().number == "T-1"
    [send] = by_name(spans(), f"send {label(order_paid_tasks)}")
    [process] = [r for r in read_span_file(span_file) if r["kind"] == "CONSUMER"]
    trace_id = f"{request.get_span_context().trace_id:032x}"
    assert send["trace_id"] == process["trace_id"] == trace_id
    assert process["parent_span_id"] == send["span_id"]
    assert process["name"] == f"process {label(order_paid_tasks)}"
    assert process["attributes"]["eventx.backend"] == "tasks"
    assert process["attributes"]["eventx.dispatch_id"] == send["attributes"]["eventx.dispatch_id"]


@pytest.mark.django_db(transaction=True)
def test_the_trace_continues_in_a_celery_worker_through_retries(spans, tracer, tmp_path):
    import redis

    client = redis.Redis.from_url(redis_url())
    client.flushdb()
    span_file = tmp_path / "worker-spans.jsonl"
    order = Order.objects.create(number="T-2", total=decimal.Decimal("1"))
    with tracer.start_as_current_span("POST /orders/T-2/pay") as request:
        order_paid_celery.send(sender=Order, order=order, fail_first=1)
    try:
        with celery_worker(tmp_path / "worker.log", EVENTX_TEST_SPAN_FILE=str(span_file)):
            wait_until(Receipt.objects.exists, 60, "the second attempt's receipt")
            wait_until(
                lambda: (
                    span_file.exists()
                    and len([r for r in read_span_file(span_file) if r["kind"] == "CONSUMER"]) == 2
                ),
                30,
                "the spans of both attempts",
            )
    finally:
        client.flushdb()
    [send] = by_name(spans(), f"send {label(order_paid_celery)}")
    runs = [r for r in read_span_file(span_file) if r["kind"] == "CONSUMER"]
    trace_id = f"{request.get_span_context().trace_id:032x}"
    assert {r["trace_id"] for r in runs} == {trace_id}
    assert {r["parent_span_id"] for r in runs} == {send["span_id"]}
    assert sorted((r["attributes"]["eventx.attempt"], r["status"]) for r in runs) == [
        (1, "ERROR"),
        (2, "UNSET"),
    ]
