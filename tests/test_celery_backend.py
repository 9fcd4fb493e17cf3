"""The celery backend: a real ``celery worker`` process on a real Redis broker
(EVENTX_TEST_REDIS_URL), and Celery's eager mode."""

import decimal
import os
from io import StringIO

import pytest
from celery.result import AsyncResult
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from eventx_signals.backends.celery import TASK_NAME
from eventx_signals.backends.out_of_process.signing import sign
from tests.celery_app import app
from tests.testapp.models import Order, Receipt
from tests.testapp.signals import misbehaving_celery, order_paid_celery
from tests.workers import celery_worker, redis_url, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker():
    """An empty Redis database as the broker."""
    import redis

    url = redis_url()
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


def test_receivers_run_in_a_celery_worker_with_the_instances_as_sent(broker, tmp_path):
    orders = [Order.objects.create(number=f"C-{n}", total=decimal.Decimal(n)) for n in range(50)]
    handles = []
    for order in orders:
        with transaction.atomic():
            [(_, future)] = order_paid_celery.send(sender=Order, order=order)
            assert not future.done()  # handed to Celery at commit
        handles.append(future.result(5))
    assert all(isinstance(handle, AsyncResult) for handle in handles)
    Order.objects.update(number="changed")
    with celery_worker(tmp_path / "worker.log"):
        wait_until(lambda: Receipt.objects.count() >= 50, 60, "50 receipts")
    receipts = Receipt.objects.order_by("total")
    assert [r.number for r in receipts] == [f"C-{n}" for n in range(50)]
    assert {r.pid for r in receipts} != {os.getpid()}
    assert {r.backend for r in receipts} == {"celery"}


def test_a_failing_receiver_is_retried_with_celerys_own_retry(broker, tmp_path):
    order_paid_celery.send(sender=Order, order=Order.objects.create(number="C-R"), fail_first=2)
    log = tmp_path / "worker.log"
    with celery_worker(log):
        wait_until(Receipt.objects.exists, 60, "the third attempt's receipt")
    assert Receipt.objects.get().attempt == 3
    text = log.read_text()
    assert "attempt 1 of 3; retrying in 0.2 s" in text
    assert "attempt 2 of 3; retrying in 0.4 s" in text
    assert text.count("Retry in") == 2  # Celery's own retry, twice


def test_forged_payloads_are_refused_and_the_worker_goes_on(broker, tmp_path):
    forged = {
        "v": 2,
        "signal": "tests.testapp.signals.order_paid_celery",
        "receiver": "os.system",
        "sender": None,
        "kwargs": {"command": "touch /tmp/owned"},
        "robust": False,
        "attempt": 1,
    }
    app.send_task(TASK_NAME, args=[sign(dict(forged))], queue="eventx-test")  # no such receiver
    app.send_task(TASK_NAME, args=[forged], queue="eventx-test")  # unsigned
    app.send_task(TASK_NAME, args=["not a payload"], queue="eventx-test")
    order_paid_celery.send(sender=Order, order=Order.objects.create(number="C-F"))
    log = tmp_path / "worker.log"
    with celery_worker(log, concurrency=1):
        wait_until(Receipt.objects.exists, 60, "the genuine receipt")
    assert list(Receipt.objects.values_list("number", flat=True)) == ["C-F"]
    text = log.read_text()
    assert text.count("Refused a payload") == 3
    assert "no receiver named 'os.system'" in text
    assert "signature is missing or does not match" in text


def test_an_argument_that_cannot_travel_fails_at_send():
    with pytest.raises(TypeError, match="'note'"):
        order_paid_celery.send(sender=Order, order=Order(number="x"), note=object())


def test_celery_eager_mode_runs_the_task_in_process_through_json():
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        [(_, future)] = order_paid_celery.send(
            sender=Order, order=Order.objects.create(number="C-E", total=3)
        )
        handle = future.result(5)
    assert handle.get() == "C-E"
    receipt = Receipt.objects.get()
    assert receipt.number == "C-E" and receipt.pid == os.getpid()


def test_a_celery_app_without_a_broker_is_a_check_warning():
    from eventx_signals.checks import check_backends

    celery_alias = {"BACKEND": "eventx_signals.backends.celery.CeleryBackend"}
    with override_settings(
        EVENTX_BACKENDS={
            "default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
            "no-broker": {**celery_alias, "OPTIONS": {"app": "tests.test_celery_backend.bare"}},
            "no-app": {**celery_alias, "OPTIONS": {"app": "tests.nowhere.app"}},
        }
    ):
        warnings = [m.msg for m in check_backends() if m.id == "eventx_signals.W003"]
    assert len(warnings) == 2, warnings
    assert "EVENTX_BACKENDS['no-broker'] has no broker_url" in warnings[0]
    assert "'tests.nowhere.app', which cannot be imported" in warnings[1]


def _bare_app():
    from celery import Celery

    return Celery("bare", set_as_current=False)


bare = _bare_app()


def _unreachable_app():
    from celery import Celery

    app = Celery("unreachable", set_as_current=False)
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    app.conf.broker_connection_retry_on_startup = False
    return app


unreachable = _unreachable_app()
UNREACHABLE_BACKENDS = {
    "default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
    "celery": {
        "BACKEND": "eventx_signals.backends.celery.CeleryBackend",
        "OPTIONS": {"app": "tests.test_celery_backend.unreachable"},
    },
}


def hand_off_to_an_unreachable_broker(caplog):
    """Send on the "celery" alias while its broker cannot be reached: the
    ERROR line logged, with the payload."""
    with override_settings(EVENTX_BACKENDS=UNREACHABLE_BACKENDS):
        [(_, future)] = order_paid_celery.send(sender=Order, order=Order(number="C-D"))
    assert future.exception(5) is not None  # send() itself did not raise
    [record] = [r for r in caplog.records if "Could not hand a receiver run" in r.getMessage()]
    assert '"number": "C-D"' in record.getMessage()  # enough to send it again
    assert ".. Payload" not in record.getMessage()
    return record.getMessage()


def test_a_broker_that_cannot_be_reached_fails_the_future_and_logs_the_payload(caplog):
    hand_off_to_an_unreachable_broker(caplog)


def test_a_run_whose_broker_was_down_is_sent_again_from_its_log_line(broker, caplog, tmp_path):
    line = hand_off_to_an_unreachable_broker(caplog)
    with (
        override_settings(EVENTX_BACKENDS=UNREACHABLE_BACKENDS),  # still away
        pytest.raises(CommandError, match=r"did not take it .*; sent 0 of 1"),
    ):
        call_command("eventx", "resend", line, stdout=StringIO())
    out = StringIO()
    call_command("eventx", "resend", line, stdout=out)  # the "celery" alias reaches Redis
    assert "Sent 1 receiver runs again." in out.getvalue()
    with celery_worker(tmp_path / "worker.log"):
        wait_until(Receipt.objects.exists, 60, "the resent run's receipt")
    receipt = Receipt.objects.get()
    assert (receipt.number, receipt.backend) == ("C-D", "celery")
    assert receipt.pid != os.getpid()


@pytest.mark.parametrize(
    "pool, worker_settings",
    [("solo", {}), ("prefork", {"EVENTX_TEST_CELERY_ACKS_LATE": "1"})],
    ids=["solo", "prefork-acks-late"],
)
def test_a_receiver_that_exits_fails_its_run_and_the_worker_goes_on(
    broker, tmp_path, pool, worker_settings
):
    """sys.exit() in a receiver used to end a solo worker (the runs after it
    never ran), and kill a prefork child again and again under the
    documented acks_late + reject_on_worker_lost (the message came back each
    time)."""
    misbehaving_celery.send(sender=None, how="exit")
    for n in range(3):
        order_paid_celery.send(sender=Order, order=Order.objects.create(number=f"X-{n}"))
    log = tmp_path / "worker.log"
    with celery_worker(log, concurrency=1, pool=pool, **worker_settings) as process:
        wait_until(
            lambda: Receipt.objects.filter(number__startswith="X-").count() == 3,
            60,
            "the runs queued after it",
        )
        alive = process.poll() is None
    assert alive, log.read_text()[-3000:]
    # It ran once: no worker died, so nothing sent it again.
    assert Receipt.objects.filter(number="bad:exit").count() == 1
    assert "ReceiverFailed: builtins.SystemExit: 3" in log.read_text()
