"""EVENTX_ON_COMMIT: dispatches inside atomic() wait for commit, vanish on rollback."""

import time

import pytest
from django.db import connection, connections, transaction
from django.test import override_settings

from eventx_signals import AsyncSignal
from eventx_signals.testing import wait_for_events
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "other"])


def test_receiver_reads_the_committed_row(signal):
    found = []

    def read_back(sender, instance, **kwargs):
        found.append(Order.objects.filter(pk=instance.pk).exists())

    signal.connect(read_back)
    with transaction.atomic():
        order = Order.objects.create(number="A-1")
        [(_, future)] = signal.send(sender=Order, instance=order)
        assert not future.done()
    assert future.result(10) is None
    assert found == [True]


def test_dispatch_waits_for_commit(signal, recorder):
    signal.connect(recorder)
    with transaction.atomic():
        signal.send(sender=None)
        wait_for_events(5)  # nothing to wait for yet: not dispatched
        assert recorder.calls == []
    wait_for_events(5)
    assert len(recorder.calls) == 1


def test_rollback_discards_and_cancels(signal, recorder):
    signal.connect(recorder)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            Order.objects.create(number="A-2")
            [(_, future)] = signal.send(sender=None)
            raise RuntimeError("roll back")
    assert future.cancelled()
    wait_for_events(5)
    assert recorder.calls == []


def test_savepoint_rollback_discards_only_the_inner_dispatch(signal, recorder):
    signal.connect(recorder)
    with transaction.atomic():
        [(_, outer)] = signal.send(sender="outer")
        try:
            with transaction.atomic():
                [(_, inner)] = signal.send(sender="inner")
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        assert inner.cancelled()
    outer.result(10)
    wait_for_events(5)
    assert [sender for sender, _ in recorder.calls] == ["outer"]


def test_waits_on_the_alias_named_by_using(signal, recorder):
    signal.connect(recorder)
    with transaction.atomic(using="other"):
        signal.send(sender=None, using="other")
        signal.send(sender=None)  # default alias: not in a transaction
        wait_for_events(5)
        assert len(recorder.calls) == 1
    wait_for_events(5)
    assert len(recorder.calls) == 2


def test_per_signal_on_commit_false_runs_at_once(recorder):
    signal = AsyncSignal(on_commit=False)
    signal.connect(recorder)
    with transaction.atomic():
        [(_, future)] = signal.send(sender=None)
        future.result(10)
    assert len(recorder.calls) == 1


@override_settings(EVENTX_ON_COMMIT=False)
def test_setting_off_runs_at_once(signal, recorder):
    signal.connect(recorder)
    with transaction.atomic():
        [(_, future)] = signal.send(sender=None)
        future.result(10)
    assert len(recorder.calls) == 1


@override_settings(EVENTX_BACKEND="immediate")
def test_immediate_backend_inside_transaction_keeps_the_callers_connection(recorder):
    signal = AsyncSignal(on_commit=False)

    def query(sender, **kwargs):
        return Order.objects.count()

    signal.connect(query)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            Order.objects.create(number="B-1")
            [(_, future)] = signal.send(sender=None)
            # Inline, inside the caller's transaction: it sees the new row.
            assert future.result(0) == 1
            assert connection.in_atomic_block
            assert connection.connection is not None
            raise RuntimeError("roll back")
    assert Order.objects.count() == 0


def test_workers_close_their_connections_after_each_job(signal):
    wrappers = []

    def query(sender, **kwargs):
        Order.objects.exists()
        wrappers.append(connections["default"])

    signal.connect(query)
    for _ in range(20):
        signal.send(sender=None)
    wait_for_events(10)
    assert len(wrappers) == 20
    assert all(wrapper is not connection for wrapper in wrappers)
    # CONN_MAX_AGE = 0: closed after each job, like at the end of a request.
    assert all(wrapper.connection is None for wrapper in wrappers)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_no_connection_left_open_after_200_jobs_on_postgresql(signal):
    def query(sender, **kwargs):
        return Order.objects.count()

    signal.connect(query)

    def backend_pids():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            return {row[0] for row in cursor.fetchall()}

    before = backend_pids()
    futures = [f for _ in range(200) for _, f in signal.send(sender=None)]
    assert [f.result(30) for f in futures] == [0] * 200
    wait_for_events(10)
    # The workers have closed their connections; the server ends each backend
    # process a moment after its client disconnects, so give it that moment.
    deadline = time.monotonic() + 5
    while backend_pids() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backend_pids() - before == set()


@pytest.fixture
def persistent_connections():
    """CONN_MAX_AGE = 60 with health checks, for connections made from now on."""
    database = connections.settings["default"]
    saved = {key: database[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    database.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    yield
    database.update(saved)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_worker_replaces_a_connection_killed_by_the_server(persistent_connections):
    from eventx_signals.backends.thread import ThreadBackend

    backend = ThreadBackend(workers=1)
    signal = AsyncSignal(backend=backend)

    def backend_pid(sender, **kwargs):
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    signal.connect(backend_pid)
    first = signal.send(sender=None)[0][1].result(10)
    # The worker keeps its connection between jobs (CONN_MAX_AGE = 60)...
    assert signal.send(sender=None)[0][1].result(10) == first
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    # ...and replaces it once the server has closed it.
    second = signal.send(sender=None)[0][1].result(10)
    assert second != first
    backend.close(timeout=10)
