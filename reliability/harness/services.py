"""PostgreSQL and Redis, as the suite uses them: its own database
(eventx_reliability, dropped and recreated per session) and Redis db 6.

Everything about the database *server* (connections, creation) is asked
through the maintenance database ``postgres``, so that watching adds no
connection to the database under test."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

PG_HOST = os.environ.get("REL_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("REL_PG_PORT", "5432"))
PG_USER = os.environ.get("REL_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("REL_PG_PASSWORD", "")
DB_NAME = os.environ.get("REL_DB_NAME", "eventx_reliability")
MAINTENANCE_DB = "postgres"
PROBE = "reliability-probe"
REDIS_URL = os.environ.get("REL_REDIS_URL", "redis://127.0.0.1:6379/6")


def connect(dbname: str = DB_NAME) -> psycopg.Connection:
    return psycopg.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        password=PG_PASSWORD or None,
        dbname=dbname,
        autocommit=True,
        connect_timeout=5,
        # The suite's own connections: never counted as the server's.
        application_name=PROBE,
    )


def postgres_problem() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        with connect(MAINTENANCE_DB) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} as {PG_USER}: {exc}"
    return None


def redis_problem() -> str | None:
    try:
        import redis
    except ImportError as exc:
        return f"redis-py is not installed: {exc}"
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        client.ping()
    except Exception as exc:
        return f"Redis is not reachable at {REDIS_URL}: {exc}"
    return None


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL, socket_timeout=10, socket_connect_timeout=5)


def recreate_database() -> None:
    with connect(MAINTENANCE_DB) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))


def drop_database() -> None:
    with connect(MAINTENANCE_DB) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
        )


TABLES = (
    "relapp_request",
    "relapp_receiverrun",
    "django_tasks_database_dbtaskresult",
    "eventx_signals_receiverrun",
)


def truncate() -> None:
    with connect() as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")


def backends(conn: psycopg.Connection) -> int:
    """Connections open to the database under test right now."""
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
        (DB_NAME, PROBE),
    ).fetchone()
    return int(row[0])


def wait_idle(timeout: float) -> int:
    """Wait until no connection to the database is left; return how many are."""
    deadline = time.monotonic() + timeout
    with connect(MAINTENANCE_DB) as conn:
        while True:
            left = backends(conn)
            if left == 0 or time.monotonic() >= deadline:
                return left
            time.sleep(0.05)


@dataclass
class ActivitySampler:
    """Counts the connections to the database under test every ``interval``
    seconds, from a thread, through the maintenance database."""

    interval: float = 0.02
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    error: BaseException | None = None

    def __enter__(self) -> ActivitySampler:
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)

    def _run(self) -> None:
        try:
            with connect(MAINTENANCE_DB) as conn:
                while not self._stop.is_set() and len(self.samples) < 100_000:
                    self.samples.append(backends(conn))
                    self._stop.wait(self.interval)
        except BaseException as exc:  # reported by the test
            self.error = exc


def scalar(query: str, params: tuple = ()) -> int:
    with connect() as conn:
        return int(conn.execute(query, params).fetchone()[0])


def rows(query: str, params: tuple = ()) -> list[tuple]:
    with connect() as conn:
        return list(conn.execute(query, params).fetchall())


def runs_per_rid() -> dict[str, int]:
    return dict(rows("SELECT rid, count(*) FROM relapp_receiverrun GROUP BY rid"))


def committed_rids() -> set[str]:
    return {rid for (rid,) in rows("SELECT rid FROM relapp_request")}
