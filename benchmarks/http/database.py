"""
What the benchmark asks PostgreSQL: create and drop its database, count
connections and sessions, count orders and receipts.

Everything except the row counts is asked through the maintenance database
("postgres"), so that watching the benchmark database does not add
connections or sessions to it.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import asdict, dataclass, field

import psycopg
from project import PgServer
from psycopg import sql

MAINTENANCE_DB = "postgres"


def connect(pg: PgServer, dbname: str) -> psycopg.Connection:
    return psycopg.connect(
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password or None,
        dbname=dbname,
        autocommit=True,
        connect_timeout=10,
    )


@dataclass(frozen=True)
class RowCounts:
    orders: int
    receipts: int
    missing: int  # orders without a receipt
    orphans: int  # receipts without an order
    duplicates: int  # receipts beyond the first for an order

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class BenchDatabase:
    def __init__(self, pg: PgServer, name: str) -> None:
        self.pg = pg
        self.name = name

    def _admin(self) -> psycopg.Connection:
        return connect(self.pg, MAINTENANCE_DB)

    def recreate(self) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )

    def backends(self, conn: psycopg.Connection | None = None) -> int:
        """Connections open to the benchmark database right now."""
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        if conn is not None:
            return _scalar(conn, query, (self.name,))
        with self._admin() as own:
            return _scalar(own, query, (self.name,))

    def sessions(self) -> int:
        """Sessions ever established to the database (pg_stat_database, 14+).

        A backend reports its session when it exits, so read this only once
        wait_idle() has seen every backend go.
        """
        with self._admin() as conn:
            # Autocommit makes each statement its own transaction, but clear
            # the statistics snapshot anyway, in case stats_fetch_consistency
            # is "snapshot" on this server.
            conn.execute("SELECT pg_stat_clear_snapshot()")
            return _scalar(
                conn,
                "SELECT coalesce(sum(sessions), 0) FROM pg_stat_database WHERE datname = %s",
                (self.name,),
            )

    def wait_idle(self, timeout_s: float = 30.0) -> int:
        """Wait until no backend is connected; return how many still are."""
        deadline = time.monotonic() + timeout_s
        with self._admin() as conn:
            while True:
                left = self.backends(conn)
                if left == 0 or time.monotonic() >= deadline:
                    return left
                time.sleep(0.05)

    def count_rows(self) -> RowCounts:
        """Opens one session to the benchmark database."""
        with connect(self.pg, self.name) as conn:
            row = conn.execute(
                """
                SELECT
                  (SELECT count(*) FROM shop_order),
                  (SELECT count(*) FROM shop_receipt),
                  (SELECT count(*) FROM shop_order o
                    WHERE NOT EXISTS (SELECT 1 FROM shop_receipt r WHERE r.order_id = o.id)),
                  (SELECT count(*) FROM shop_receipt r
                    WHERE NOT EXISTS (SELECT 1 FROM shop_order o WHERE o.id = r.order_id)),
                  (SELECT count(*) - count(DISTINCT order_id) FROM shop_receipt)
                """
            ).fetchone()
        assert row is not None
        return RowCounts(*(int(v) for v in row))


def _scalar(conn: psycopg.Connection, query: str, params: tuple[object, ...]) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


@dataclass
class ActivitySampler:
    """Samples pg_stat_activity for the database in a background thread while
    the load runs: how many connections the server holds at a time."""

    db: BenchDatabase
    interval_s: float = 0.25
    max_samples: int = 4_000  # bounds the loop even if stop() is never called
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> ActivitySampler:
        self._thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        with connect(self.db.pg, MAINTENANCE_DB) as conn:
            while len(self.samples) < self.max_samples and not self._stop.wait(self.interval_s):
                self.samples.append(self.db.backends(conn))

    def summary(self) -> dict[str, float]:
        if not self.samples:
            return {"samples": 0, "max": 0, "median": 0}
        return {
            "samples": len(self.samples),
            "max": max(self.samples),
            "median": statistics.median(self.samples),
        }
