"""PostgreSQL helpers of the tests."""

import time

from django.db import connection


def terminate_sessions(pids, timeout=10.0):
    """Have the server drop the sessions ``pids``, as a restart would, and
    wait until they are gone (termination is asynchronous)."""
    pids = list(pids)
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + timeout
        while True:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
            if cursor.fetchone()[0] == 0:
                return
            assert time.monotonic() < deadline, "terminated sessions still listed"
            time.sleep(0.05)
