"""How a worker checks its kept database connections before each job
(eventx_signals/backends/worker_connections.py)."""

import os
import socket

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from eventx_signals import AsyncSignal
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.core import connections as worker_connections
from tests.postgres import terminate_sessions


def test_an_idle_socket_is_not_readable_until_the_peer_speaks_or_leaves():
    ours, peer = socket.socketpair()
    try:
        assert not worker_connections._readable(ours.fileno())
        peer.send(b"E")  # PostgreSQL's last words before it drops a session
        assert worker_connections._readable(ours.fileno())
        ours.recv(1)
        assert not worker_connections._readable(ours.fileno())
        peer.close()  # end of file
        assert worker_connections._readable(ours.fileno())
    finally:
        ours.close()
        peer.close()


def test_a_descriptor_that_cannot_be_polled_counts_as_readable():
    descriptor = os.open(os.devnull, os.O_RDONLY)
    os.close(descriptor)
    assert worker_connections._readable(descriptor)


def _backend_pid(sender, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def counted_usability_checks(monkeypatch):
    calls = []
    wrapper_class = type(connections["default"])
    original = wrapper_class.is_usable

    def is_usable(self):
        calls.append(self.alias)
        return original(self)

    assert issubclass(wrapper_class, BaseDatabaseWrapper)
    monkeypatch.setattr(wrapper_class, "is_usable", is_usable)
    return calls


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_healthy_kept_connection_costs_no_round_trip_and_a_dropped_one_is_replaced(
    counted_usability_checks,
):
    pool = ThreadBackend("connections", {"workers": 1})
    try:
        signal = AsyncSignal(backend=pool)
        signal.connect(_backend_pid)
        pids = {future.result(10) for _ in range(20) for _, future in signal.send(None)}
        assert len(pids) == 1  # one connection, kept across the jobs
        assert counted_usability_checks == []  # and no SELECT 1 before each

        [pid] = pids
        terminate_sessions([pid])

        after = [future.result(10) for _ in range(20) for _, future in signal.send(None)]
        # The first job after the drop found the socket readable, asked the
        # server, and replaced the connection: no receiver failed.
        assert len(set(after)) == 1 and pid not in after
        assert counted_usability_checks == ["default"]
    finally:
        pool.close(timeout=10)
