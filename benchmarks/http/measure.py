"""
One measurement: one mode, one gunicorn run, on a fresh database.

    recreate the database, create the tables
    start gunicorn, wait until both workers answer
    load it (pg_stat_activity sampled meanwhile), count receipts at load end
    SIGTERM, wait for the exit (the queue drains), wait for every backend to go
    count sessions opened during the run, count orders and receipts
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from database import ActivitySampler, BenchDatabase
from load import open_connections, run_load
from machine import busy_cpu_seconds
from project import PgServer, child_env, migrate
from server import HOST, WORKERS, GunicornServer
from stats import percentile


@dataclass(frozen=True)
class LoadPlan:
    requests: int
    concurrency: int
    warmup: int
    time_limit_s: float
    balance: bool  # spread the connections evenly over gunicorn's workers


@dataclass
class RunResult:
    mode: str
    round: int
    position: int  # 0 = first mode of its round
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    throughput_rps: float
    cpu_ms_per_request: float  # busy CPU of the whole machine during the load
    answered: int
    failures: int  # non-2xx plus no response
    statuses: dict[str, int]
    transport_errors: int
    worker_split: list[int]  # recorded responses per gunicorn worker, largest first
    balanced: bool  # connections were spread evenly before the load
    placement_attempts: int  # connections opened to spread them
    deadline_hit: bool
    requests_sent: int  # warm-up included: each opens one session (CONN_MAX_AGE=0)
    orders: int
    receipts: int
    receipts_at_load_end: int
    missing: int | None  # None in mode "none": no receipt is expected
    orphans: int
    duplicates: int
    pg_backends: dict[str, float]
    pg_backend_samples: list[int]
    sessions: int
    backends_left: int
    stop_seconds: float
    server_returncode: int | None
    server_killed: bool
    log_path: str
    unexpected_log_lines: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def extra_sessions(self) -> int:
        """Sessions beyond one per HTTP request: the background jobs' own."""
        return self.sessions - self.requests_sent

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["extra_sessions"] = self.extra_sessions
        return data


def measure(
    mode: str,
    round_index: int,
    position: int,
    plan: LoadPlan,
    pg: PgServer,
    db_name: str,
    log_dir: Path,
) -> RunResult:
    db = BenchDatabase(pg, db_name)
    db.recreate()
    env = child_env(mode, db_name, pg)
    migrate(env)
    db.wait_idle()
    sessions_before = db.sessions()

    server = GunicornServer(env, log_dir / f"round{round_index}-{mode}.log")
    with server:
        server.wait_ready()
        placement = open_connections(
            HOST,
            server.port,
            count=plan.concurrency,
            processes=WORKERS,
            probe_path="/health/",
            balance=plan.balance,
        )
        with ActivitySampler(db) as sampler:
            cpu_before = busy_cpu_seconds()
            load = run_load(
                placement.connections,
                "POST",
                "/orders/",
                requests=plan.requests,
                warmup=plan.warmup,
                time_limit_s=plan.time_limit_s,
            )
            cpu_seconds = busy_cpu_seconds() - cpu_before
        # What the background has written by the time the last response came:
        # the rest is still queued and is written while the server drains.
        at_load_end = db.count_rows()
        server.stop()
    backends_left = db.wait_idle()
    # One session of our own opened in the window: count_rows() above.
    sessions = db.sessions() - sessions_before - 1
    final = db.count_rows()

    latencies_ms = [s * 1000 for s in load.latencies_s]
    return RunResult(
        mode=mode,
        round=round_index,
        position=position,
        p50_ms=percentile(latencies_ms, 50),
        p90_ms=percentile(latencies_ms, 90),
        p99_ms=percentile(latencies_ms, 99),
        mean_ms=sum(latencies_ms) / len(latencies_ms) if latencies_ms else float("nan"),
        max_ms=max(latencies_ms, default=float("nan")),
        throughput_rps=load.throughput,
        cpu_ms_per_request=cpu_seconds * 1000 / max(1, load.warmup_sent + load.answered),
        answered=load.answered,
        failures=load.failures,
        statuses={str(k): v for k, v in sorted(load.statuses.items())},
        transport_errors=load.transport_errors,
        worker_split=sorted(load.workers.values(), reverse=True),
        balanced=placement.balanced,
        placement_attempts=placement.attempts,
        deadline_hit=load.deadline_hit,
        requests_sent=load.warmup_sent + load.answered + load.transport_errors,
        orders=final.orders,
        receipts=final.receipts,
        receipts_at_load_end=at_load_end.receipts,
        missing=None if mode == "none" else final.missing,
        orphans=final.orphans,
        duplicates=final.duplicates,
        pg_backends=sampler.summary(),
        pg_backend_samples=list(sampler.samples),
        sessions=sessions,
        backends_left=backends_left,
        stop_seconds=server.stop_seconds or 0.0,
        server_returncode=server.returncode,
        server_killed=server.killed,
        log_path=str(server.log_path),
        unexpected_log_lines=server.unexpected_log_lines()[:50],
        latencies_ms=[round(v, 3) for v in latencies_ms],
    )
