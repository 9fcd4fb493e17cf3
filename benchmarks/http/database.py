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
from machine import busy_cpu_seconds
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

    def count_table(self, table: str) -> int | None:
        """Rows of ``table`` in the benchmark database, None if it does not
        exist (the mode does not install its app). Opens one session."""
        with connect(self.pg, self.name) as conn:
            row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
            if not (row and row[0]):
                return None
            return _scalar(
                conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)), ()
            )

    def tables(self) -> set[str]:
        """Tables of the benchmark database (public schema). Opens one session."""
        with connect(self.pg, self.name) as conn:
            rows = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        return {str(r[0]) for r in rows}


_MISSING_RECEIPTS = """
    SELECT count(*) FROM shop_order o
    WHERE NOT EXISTS (SELECT 1 FROM shop_receipt r WHERE r.order_id = o.id)
"""


class DrainWatcher:
    """From load end, polls the orders without a receipt on one connection
    (one session) in a background thread, and notes when the count first
    reaches 0: how long the background took to catch up after the last
    response. Gives up after ``timeout_s``."""

    def __init__(
        self, db: BenchDatabase, load_end: float, timeout_s: float, interval_s: float = 0.05
    ) -> None:
        self.db = db
        self.load_end = load_end  # time.monotonic() at the last response
        self.timeout_s = timeout_s
        self.interval_s = interval_s
        self.drained_after_s: float | None = None
        # Busy CPU of the machine when the last receipt was seen written.
        self.busy_cpu_at_drain: float | None = None
        self.last_missing: int | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="drain-watcher", daemon=True)

    def start(self) -> DrainWatcher:
        self._thread.start()
        return self

    def join(self) -> None:
        self._thread.join(timeout=self.timeout_s + 30)

    def _run(self) -> None:
        deadline = self.load_end + self.timeout_s
        try:
            with connect(self.db.pg, self.db.name) as conn:
                while True:
                    self.last_missing = _scalar(conn, _MISSING_RECEIPTS, ())
                    now = time.monotonic()
                    if self.last_missing == 0:
                        self.busy_cpu_at_drain = busy_cpu_seconds()
                        self.drained_after_s = now - self.load_end
                        return
                    if now >= deadline:
                        return
                    time.sleep(self.interval_s)
        except psycopg.Error as exc:
            self.error = f"{type(exc).__name__}: {exc}"


def _scalar(conn: psycopg.Connection, query: object, params: tuple[object, ...]) -> int:
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
