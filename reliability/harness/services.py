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


def sessions(conn: psycopg.Connection, app_name: str) -> dict[int, str | None]:
    """Client port -> wait event of each session named ``app_name``."""
    rows = conn.execute(
        "SELECT client_port, wait_event FROM pg_stat_activity WHERE application_name = %s",
        (app_name,),
    ).fetchall()
    return dict(rows)


def tcp_queues() -> dict[tuple[int, int], tuple[int, int]]:
    """(local port, remote port) -> (bytes sent and not yet acknowledged,
    bytes received and not yet read) of every TCP socket of this machine."""
    queues = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as table:
                lines = table.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            sent, received = fields[4].split(":")
            queues[int(local, 16), int(remote, 16)] = (int(sent, 16), int(received, 16))
    return queues


def caught_up(conn: psycopg.Connection, app_name: str) -> bool:
    """Whether PostgreSQL has received, read and run all that the client
    ``app_name`` sent, which is final once that client is frozen (SIGSTOP):
    nothing unacknowledged in the client's sockets, nothing unread in the
    server's, and every session waiting to read from the client. Looked at
    in that order, so that a session seen waiting has read what was there
    (the wait event of a session that has not yet woken up to read is still
    ClientRead). A client frozen between two connections (CONN_MAX_AGE = 0
    closes one after each task) has no session, and nothing on its way."""
    ports = set(sessions(conn, app_name))
    queues = tcp_queues()
    for port in ports:
        if queues.get((port, PG_PORT), (0, 0))[0] or queues.get((PG_PORT, port), (0, 0))[1]:
            return False
    waits = sessions(conn, app_name)
    return set(waits) == ports and set(waits.values()) <= {"ClientRead"}


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
