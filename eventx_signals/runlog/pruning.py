"""
Deleting run log rows older than the retention (EVENTX_RECORD_RETENTION_DAYS):
by the writer once an hour, and by ``manage.py eventx prune``.
"""

from __future__ import annotations

import datetime

from django.db import connections, router
from django.utils import timezone

from ..config.settings import RECORD_RETENTION_DAYS

#: Rows deleted per statement, at most (fewer where the database takes
#: fewer query parameters).
PRUNE_BATCH = 5_000


def retention_days() -> float:
    """EVENTX_RECORD_RETENTION_DAYS (the default for a bad value, which the
    checks report)."""
    return float(RECORD_RETENTION_DAYS.value())


def prune(older_than_days: float) -> int:
    """
    Delete runs that finished more than ``older_than_days`` days ago; return
    how many.

    Housekeeping of our own table, so no ``pre_delete``/``post_delete`` is
    sent: ``QuerySet.delete()`` would send them for every row as soon as a
    project has a receiver of every sender's ``post_delete`` (an audit log,
    say), loading each row and running that receiver on it. Instead, the
    primary keys of old rows are read in key order, ``PRUNE_BATCH`` at a
    time (fewer where the database takes fewer query parameters), and
    deleted by one ``DELETE ... WHERE pk IN (...)`` each, in a transaction
    of its own unless the caller holds one: memory and locks stay bounded
    however many rows there are.
    """
    from .model import ReceiverRun  # the app registry must be ready

    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    alias = router.db_for_write(ReceiverRun)
    connection = connections[alias]
    batch = min(PRUNE_BATCH, connection.features.max_query_params or PRUNE_BATCH)
    quote = connection.ops.quote_name
    meta = ReceiverRun._meta
    delete = f"DELETE FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} IN "
    old = ReceiverRun.objects.using(alias).filter(finished_at__lt=cutoff).order_by("pk")
    deleted = 0
    last = None
    while True:
        # Onwards from the last batch by primary key: each batch starts where
        # the previous one ended, instead of walking again over the index
        # entries of the rows just deleted (dead until a vacuum).
        rows = old if last is None else old.filter(pk__gt=last)
        pks = list(rows.values_list("pk", flat=True)[:batch])
        if not pks:
            return deleted
        # The keys as literals: our own integers, made sure of by int(); a
        # query with thousands of placeholders costs psycopg more Python
        # time to parse than the database takes to delete the rows.
        with connection.cursor() as cursor:
            cursor.execute(delete + f"({', '.join(str(int(pk)) for pk in pks)})")
            deleted += int(cursor.rowcount)
        if len(pks) < batch:
            return deleted
        last = pks[-1]
