"""The django_tasks backend, end to end: django-tasks-db's real db_worker in
another process, on the test database."""

import datetime
import decimal
import json
import os
import re
import signal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from eventx_signals import trigger_event
from eventx_signals.backends import backends
from eventx_signals.backends.django_tasks import TASK_PATH, get_task
from eventx_signals.backends.out_of_process.signing import sign
from tests.testapp.models import Order, Receipt
from tests.testapp.signals import misbehaving_tasks, order_paid_tasks
from tests.workers import run_db_worker_until_idle, start_db_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def tasks_alias(**options):
    base = {"queue_name": "eventx-test"}
    return override_settings(
        EVENTX_BACKENDS={
            "default": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
            "tasks": {
                "BACKEND": "eventx_signals.backends.django_tasks.DjangoTasksBackend",
                "OPTIONS": {**base, **options},
            },
        }
    )


def test_a_receiver_runs_in_the_worker_with_the_instance_as_sent():
    order = Order.objects.create(number="T-1", total=decimal.Decimal("12.50"))
    [(receiver, future)] = order_paid_tasks.send(sender=Order, order=order)
    result = future.result(5)  # handed off: the engine's own TaskResult
    assert result.status == "READY"
    assert receiver.__name__ == "write_receipt"
    Order.objects.filter(pk=order.pk).update(number="changed")  # after the send
    run_db_worker_until_idle()
    receipt = Receipt.objects.get()
    assert (receipt.number, receipt.total, receipt.attempt) == ("T-1", decimal.Decimal("12.50"), 1)
    assert receipt.pid != os.getpid() and receipt.backend == "tasks"
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == "T-1"
    row = DBTaskResult.objects.get()
    assert row.task_path == TASK_PATH and row.queue_name == "eventx-test"


def test_the_task_waits_for_commit_and_a_rollback_enqueues_nothing():
    with transaction.atomic():
        order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-2"))
        assert DBTaskResult.objects.count() == 0
    assert DBTaskResult.objects.count() == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-3"))
        raise RuntimeError("payment refused")
    assert DBTaskResult.objects.count() == 1


def test_enqueue_in_transaction_writes_the_task_with_the_data():
    with tasks_alias(enqueue_in_transaction=True):
        with transaction.atomic():
            [(_, future)] = order_paid_tasks.send(
                sender=Order, order=Order.objects.create(number="T-4")
            )
            assert future.done()  # enqueued at once, inside the transaction
            assert DBTaskResult.objects.count() == 1
        with pytest.raises(RuntimeError), transaction.atomic():
            order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-5"))
            assert DBTaskResult.objects.count() == 2
            raise RuntimeError("payment refused")
        # The task rolled back with the order.
        assert DBTaskResult.objects.count() == 1
    run_db_worker_until_idle()
    assert list(Receipt.objects.values_list("number", flat=True)) == ["T-4"]


def test_a_failed_attempt_is_retried_as_a_deferred_task():
    order = Order.objects.create(number="T-6")
    order_paid_tasks.send(sender=Order, order=order, fail_first=1)
    run_db_worker_until_idle()
    first = DBTaskResult.objects.get(status="FAILED")
    assert (
        first.exception_class_path
        == "eventx_signals.backends.out_of_process.payloads.RetryScheduled"
    )
    retry_row = DBTaskResult.objects.get(status="READY")
    assert retry_row.run_after > first.finished_at  # deferred by the backoff
    assert retry_row.args_kwargs["args"][0]["attempt"] == 2

    def retried():
        run_db_worker_until_idle()
        return Receipt.objects.exists()

    wait_until(retried, 30, "the deferred retry to run")
    assert Receipt.objects.get().attempt == 2


def test_forged_payloads_fail_their_task_and_the_worker_goes_on():
    order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-7"))
    genuine = DBTaskResult.objects.get().args_kwargs["args"][0]
    enqueue = get_task().using(queue_name="eventx-test").enqueue
    # Signed with the site's key, so that the worker's other checks refuse them.
    enqueue(sign({**genuine, "receiver": "os.system", "kwargs": {"command": "touch /tmp/owned"}}))
    enqueue(sign({**genuine, "signal": "django.core.signals.request_started"}))
    enqueue({**genuine, "kwargs": {**genuine["kwargs"], "note": "changed"}})  # signature broken
    enqueue({"v": 2})
    run_db_worker_until_idle()
    failed = DBTaskResult.objects.filter(status="FAILED")
    assert failed.count() == 4
    assert (
        sorted(row.exception_class_path for row in failed)
        == [
            "eventx_signals.backends.out_of_process.payloads.RefusedPayload",  # altered after signing
            "eventx_signals.backends.out_of_process.payloads.RefusedPayload",  # not a payload
            "eventx_signals.backends.out_of_process.payloads.UnknownToThisWorker",  # no such receiver here
            "eventx_signals.backends.out_of_process.payloads.UnknownToThisWorker",  # no such signal here
        ]
    )
    assert list(Receipt.objects.values_list("number", flat=True)) == ["T-7"]


def test_a_worker_killed_mid_stream_loses_nothing(tmp_path):
    """SIGKILL the worker while it works through 1,000 committed events;
    requeue what it left running; a new worker finishes: every committed
    event's receiver ran at least once, none from a rolled-back transaction."""
    committed = [f"K-{n}" for n in range(1000)]
    for number in committed:
        with transaction.atomic():
            order_paid_tasks.send(
                sender=Order, order=Order.objects.create(number=number), pause=0.002
            )
    for n in range(100):
        with pytest.raises(RuntimeError), transaction.atomic():
            order_paid_tasks.send(sender=Order, order=Order.objects.create(number=f"R-{n}"))
            raise RuntimeError("rolled back")
    assert DBTaskResult.objects.count() == 1000

    sessions_before = database_sessions()
    victim = start_db_worker("victim", tmp_path / "victim.log")
    try:
        wait_until(lambda: Receipt.objects.count() >= 300, 120, "300 receipts")
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    # The server may still be committing the dead worker's last claim, which
    # requeue would not see yet: wait until it has ended the worker's session.
    wait_until(lambda: not database_sessions() - sessions_before, 30, "the killed worker's session")
    done_before_kill = Receipt.objects.count()
    assert done_before_kill < 1000, "the worker finished before it could be killed"

    call_command("eventx", "requeue", "--worker-id", "victim")
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
    run_db_worker_until_idle(timeout=300)

    seen = set(Receipt.objects.values_list("number", flat=True))
    assert seen == set(committed), (  # all committed, none rolled back
        f"missing {sorted(set(committed) - seen)}, extra {sorted(seen - set(committed))}; "
        f"their tasks: {tasks_of(set(committed) ^ seen)}"
    )
    assert DBTaskResult.objects.exclude(status="SUCCESSFUL").count() == 0


def database_sessions():
    """Server process ids of the sessions on the test database (PostgreSQL;
    SQLite has no server, and a commit dies with the process that made it)."""
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cursor.fetchall()}


def tasks_of(numbers):
    """What became of the tasks whose payload names one of ``numbers``."""
    return [
        (row.status, row.worker_ids, str(row.run_after), row.exception_class_path)
        for row in DBTaskResult.objects.all()
        if any(f'"{number}"' in json.dumps(row.args_kwargs) for number in numbers)
    ]


def test_requeue_needs_to_know_which_runs_are_abandoned():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--worker-id"):
        call_command("eventx", "requeue")


def test_the_payload_is_plain_json_in_the_task_table():
    order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-8"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT args_kwargs FROM django_tasks_database_dbtaskresult")
        [(stored,)] = cursor.fetchall()
    payload = (json.loads(stored) if isinstance(stored, str) else stored)["args"][0]
    assert payload["receiver"] == "tests.testapp.listeners.write_receipt"
    assert payload["kwargs"]["order"]["fields"]["number"] == "T-8"


def test_eager_on_the_tasks_backend_round_trips_the_payload():
    from eventx_signals.testing import eager

    with eager(), pytest.raises(TypeError, match="'note'"):
        order_paid_tasks.send(sender=Order, order=Order(number="E"), note=object())
    with eager():
        [(_, future)] = order_paid_tasks.send(sender=Order, order=Order(number="T-9"))
    assert future.result(0) == "T-9"
    assert DBTaskResult.objects.count() == 0  # eager never reaches the engine


def test_backend_options_are_validated():
    from eventx_signals.checks import check_backends

    with tasks_alias(priority=500, enqueue_in_transaction="yes"):
        backends.reset()
        messages = [m.msg for m in check_backends()]
    assert any("'priority' must be an integer from -100 to 100" in m for m in messages)
    assert any("'enqueue_in_transaction' must be True or False" in m for m in messages)


def test_a_patched_post_save_receiver_runs_in_the_worker_with_the_field_values():
    from django.db.models.signals import post_save

    from eventx_signals import patched_signal
    from tests.testapp.models import Shipment

    order = Order.objects.create(number="T-10")
    with patched_signal(post_save, senders=[Shipment], backend="tasks"):
        shipment = Shipment.objects.create(
            order=order, status="sent", details={"carrier": "post"}, weight=decimal.Decimal("2.5")
        )
        assert not Receipt.objects.exists()  # not run here
    shipment.status = "lost"  # after the send: not what the receiver sees
    run_db_worker_until_idle(EVENTX_TEST_ASYNC_POST_SAVE="1")
    receipt = Receipt.objects.get()
    assert receipt.number == "sent:post:True"
    assert receipt.total == decimal.Decimal("2.5") and receipt.pid != os.getpid()


def test_on_a_tasks_backend_that_cannot_defer_a_retry_runs_at_once_with_a_warning(caplog):
    # Django's ImmediateBackend runs a task inside enqueue() and cannot defer.
    with tasks_alias(task_backend="immediate"):
        [(_, future)] = order_paid_tasks.send(
            sender=Order, order=Order.objects.create(number="T-11"), fail_first=1
        )
        result = future.result(5)
    assert result.status == "FAILED"  # the first attempt's task
    assert Receipt.objects.get().attempt == 2  # its retry ran at once
    assert any(
        "cannot defer a task: the retry of tests.testapp.listeners.write_receipt runs "
        "without its 0.2 s backoff" in r.getMessage()
        for r in caplog.records
    )


def test_requeue_by_age_leaves_recent_running_tasks_alone():
    from django.utils import timezone

    order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-12"))
    order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-13"))
    old, recent = DBTaskResult.objects.order_by("enqueued_at")
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    DBTaskResult.objects.filter(pk=old.pk).update(status="RUNNING", started_at=hour_ago)
    DBTaskResult.objects.filter(pk=recent.pk).update(status="RUNNING", started_at=timezone.now())
    call_command("eventx", "requeue", "--running-for", "600")
    assert DBTaskResult.objects.get(pk=old.pk).status == "READY"
    assert DBTaskResult.objects.get(pk=recent.pk).status == "RUNNING"


def test_a_named_event_runs_on_the_alias_its_listeners_module_gives_it():
    order = Order.objects.create(number="E-1", total=decimal.Decimal("4.50"))
    [(_, future)] = trigger_event("order_refunded", order=order)
    assert future.result(5).status == "READY"  # a task, not a worker thread's run
    assert DBTaskResult.objects.get().args_kwargs["args"][0]["event"] == "order_refunded"
    run_db_worker_until_idle()
    receipt = Receipt.objects.get()
    assert (receipt.number, receipt.total) == ("refund:E-1", decimal.Decimal("4.50"))
    assert receipt.pid != os.getpid()


def test_a_payload_a_worker_of_the_previous_release_refused_can_be_resent():
    """Web processes deployed before the workers: a worker without the new
    listener refuses its payload and logs it; `eventx resend` with that log
    line sends it again, and an up-to-date worker runs it."""
    trigger_event("order_refunded", order=Order.objects.create(number="E-2"))
    previous = run_db_worker_until_idle(EVENTX_TEST_WORKER_RELEASE="previous")
    assert DBTaskResult.objects.get().status == "FAILED"
    [line] = [line for line in previous.stderr.splitlines() if "Refused a payload" in line]
    assert "no listener of the event 'order_refunded'" in line
    # The line says what to do about it.
    assert "restart the worker with that code" in line
    assert "pass this log line to manage.py eventx resend" in line

    out = StringIO()
    call_command("eventx", "resend", line, stdout=out)
    assert "Sent 1 receiver runs again." in out.getvalue()
    run_db_worker_until_idle()
    assert list(Receipt.objects.values_list("number", flat=True)) == ["refund:E-2"]
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == [
        "FAILED",
        "SUCCESSFUL",
    ]


def test_resend_reads_standard_input_and_sends_nothing_if_one_payload_is_bad(monkeypatch):
    order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-9"))
    payload = json.dumps(DBTaskResult.objects.get().args_kwargs["args"][0])
    thread_payload = json.dumps({**json.loads(payload), "backend": "default"})

    monkeypatch.setattr("sys.stdin", StringIO(f"ERROR ... Payload: {payload}\n\nnot json\n"))
    with pytest.raises(CommandError, match="Payload 2: it is neither a JSON object"):
        call_command("eventx", "resend")
    with pytest.raises(CommandError, match=r"Payload 2: the backend alias 'default' \(Thread"):
        call_command("eventx", "resend", payload, thread_payload, stdout=StringIO())
    assert DBTaskResult.objects.count() == 1  # nothing sent

    monkeypatch.setattr("sys.stdin", StringIO(f"{payload}\n"))
    call_command("eventx", "resend", "-", stdout=StringIO())
    run_db_worker_until_idle()
    assert Receipt.objects.filter(number="T-9").count() == 2  # sent, then sent again


def test_resend_sends_a_run_found_twice_once_and_checks_every_line_first():
    """The documentation's grep | resend recipe finds a payload refused twice twice; a
    NaN passed the command's check and failed at PostgreSQL after earlier
    lines had been sent."""
    order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-12"))
    genuine = DBTaskResult.objects.get().args_kwargs["args"][0]
    DBTaskResult.objects.all().delete()
    line = f"ERROR Refused a payload: ... Payload: {json.dumps(genuine)}"
    nan = f'ERROR ... Payload: {json.dumps(genuine)[:-1]}, "x": NaN}}'
    tampered = json.dumps({**genuine, "kwargs": {**genuine["kwargs"], "fail_first": 0}})

    for bad, why in [(nan, "NaN and Infinity are not JSON"), (tampered, "signature")]:
        with pytest.raises(CommandError, match=f"Payload 2: .*{why}.* Nothing was sent"):
            call_command("eventx", "resend", line, bad, stdout=StringIO())
        assert not DBTaskResult.objects.exists()

    out = StringIO()
    call_command("eventx", "resend", line, line, stdout=out)
    assert "Skipped payload 2: the same run as payload 1." in out.getvalue()
    assert "Sent 1 receiver runs again." in out.getvalue()
    assert DBTaskResult.objects.count() == 1


def test_what_a_task_store_cannot_hold_never_ends_the_worker(caplog):
    """A NUL in a receiver's exception killed db_worker (PostgreSQL text
    cannot hold it) and left the task RUNNING for the next worker to die on;
    NaN or a NUL in a return value failed a run that had succeeded."""
    for how in ("nul-error", "exit", "nan", "nul-result", "fine"):
        misbehaving_tasks.send(sender=None, how=how)
    order_paid_tasks.send(sender=Order, order=Order.objects.create(number="T-N"))
    worker = run_db_worker_until_idle()  # fails unless the worker exits normally
    statuses = {
        row.args_kwargs["args"][0]["kwargs"].get("how", "receipt"): row.status
        for row in DBTaskResult.objects.all()
    }
    assert statuses == {
        "nul-error": "FAILED",
        "exit": "FAILED",
        "nan": "SUCCESSFUL",
        "nul-result": "SUCCESSFUL",
        "fine": "SUCCESSFUL",
        "receipt": "SUCCESSFUL",
    }
    failed = {
        row.args_kwargs["args"][0]["kwargs"]["how"]: row
        for row in DBTaskResult.objects.filter(status="FAILED")
    }
    assert (
        failed["exit"].exception_class_path
        == "eventx_signals.backends.out_of_process.worker.ReceiverFailed"
    )
    assert "builtins.SystemExit: 3" in failed["exit"].traceback
    assert "a file name with a \\x00 in it" in failed["nul-error"].traceback
    assert DBTaskResult.objects.get(args_kwargs__args__0__kwargs__how="nan").return_value is None
    assert Receipt.objects.filter(number="T-N").exists()
    assert "which a task store cannot hold" in worker.stderr


def test_a_queryset_delete_with_post_delete_in_the_worker():
    """QuerySet.delete() passes origin=<QuerySet> to post_delete: the delete
    used to fail with TypeError, and the rows stayed."""
    from django.db.models.signals import post_delete

    from eventx_signals import patched_signal
    from tests.testapp.models import Shipment

    order = Order.objects.create(number="T-11")
    for _ in range(2):
        Shipment.objects.create(order=order)
    with patched_signal(post_delete, senders=[Shipment], backend="tasks"):
        Shipment.objects.filter(order=order).delete()
    assert not Shipment.objects.exists()
    deletions = Receipt.objects.filter(number__startswith="del:")
    assert not deletions.exists()  # not run here
    run_db_worker_until_idle(EVENTX_TEST_ASYNC_POST_SAVE="1")
    assert list(deletions.values_list("number", flat=True)) == ["del:QuerySet"] * 2
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_each_start_of_db_worker_has_an_id_of_its_own_as_the_docs_say():
    """requeue --worker-id of a dead worker must never take back a live
    worker's run: the documentation's db_worker commands give no fixed id,
    and each start gets one of its own, in its first log line."""
    root = Path(__file__).resolve().parent.parent
    pages = [root / "README.rst", *sorted((root / "docs").glob("**/*.rst"))]
    text = "\n".join(page.read_text() for page in pages)
    commands = re.findall(r"manage\.py db_worker[^`]*", re.sub(r"\n\s+", " ", text))
    assert commands and all("--worker-id" not in command for command in commands)
    outputs = [run_db_worker_until_idle() for _ in range(2)]
    ids = [re.search(r"worker_id=(\S+)", o.stdout + o.stderr).group(1) for o in outputs]
    assert ids[0] != ids[1]
