"""
One measurement: one mode, one gunicorn run, on a fresh database.

    recreate the database, create the tables (migrations of the mode's apps)
    celery / tasks: empty the broker, start the worker processes, wait for them
    start gunicorn, wait until both workers answer
    load it (pg_stat_activity sampled meanwhile), count receipts at load end
    watch the receipts until none is missing (drain time after load end)
    SIGTERM gunicorn, wait for the exit (the thread backend's queue drains)
    celery / tasks: once every receipt is written, SIGTERM the workers
    wait for every backend to go
    count sessions opened during the run, count orders, receipts, log rows
    async+trace: count the spans the workers wrote (complete once they exited)
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from database import ActivitySampler, BenchDatabase, DrainWatcher
from load import open_connections, run_load
from machine import busy_cpu_seconds, pids_named, postmaster_pids, tree_cpu_seconds
from project import DEFAULT_REDIS_URL, PgServer, child_env, migrate
from server import HOST, WORKERS, GunicornServer
from stats import percentile
from workers import CeleryWorker, DbWorkers, WorkerProcesses, flush_redis

#: Modes whose receiver runs in worker processes: the request only enqueues.
OUT_OF_PROCESS = ("celery", "tasks")
#: Tables each mode's apps must have after migrate.
REQUIRED_TABLES = {
    "async+log": ("eventx_signals_receiverrun",),
    "tasks": ("django_tasks_database_dbtaskresult",),
}


@dataclass(frozen=True)
class LoadPlan:
    requests: int
    concurrency: int
    warmup: int
    time_limit_s: float
    balance: bool  # spread the connections evenly over gunicorn's workers
    drain_timeout_s: float = 120.0  # wait for the receipts after load end at most
    celery_concurrency: int = 4  # threads of the celery worker
    db_workers: int = 2  # db_worker processes in mode "tasks"
    redis_url: str = DEFAULT_REDIS_URL  # Celery's broker in mode "celery"


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
    # Seconds from the last response until no order lacked its receipt
    # (None: mode "none", or not reached within the drain timeout).
    drain_seconds: float | None = None
    # Busy CPU of the machine from the start of the load until that moment,
    # per request: the whole cost of the work, queued jobs included.
    cpu_ms_per_request_drained: float | None = None
    # CPU per request during the load by process tree: gunicorn, workers
    # (celery / tasks), postgres, redis (mode celery), other (the load client,
    # the rest).
    cpu_split_ms_per_request: dict[str, float] = field(default_factory=dict)
    # Rows of the run log (eventx_signals_receiverrun), None without it.
    log_rows: int | None = None
    # Spans written by the gunicorn workers (async+trace), None without them.
    spans: dict[str, int] | None = None
    # Worker processes of the celery / tasks modes.
    worker_processes: int = 0
    worker_stop_seconds: float | None = None
    worker_returncodes: list[int | None] = field(default_factory=list)
    worker_killed: bool = False
    worker_log_paths: list[str] = field(default_factory=list)

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
    env = child_env(mode, db_name, pg, plan.redis_url)
    span_dir = log_dir / f"round{round_index}-{mode}-spans"
    if mode == "async+trace":
        shutil.rmtree(span_dir, ignore_errors=True)
        env["EVENTX_HTTP_BENCH_SPAN_DIR"] = str(span_dir)
    migrate(env)
    missing_tables = set(REQUIRED_TABLES.get(mode, ())) - db.tables()
    if missing_tables:
        raise RuntimeError(f"migrate did not create {sorted(missing_tables)} in mode {mode}")
    if mode == "celery":
        flush_redis(plan.redis_url)
    db.wait_idle()
    sessions_before = db.sessions()

    stem = log_dir / f"round{round_index}-{mode}"
    workers: WorkerProcesses | None = None
    if mode == "celery":
        workers = CeleryWorker(env, stem, plan.celery_concurrency, plan.redis_url)
    elif mode == "tasks":
        workers = DbWorkers(env, stem, plan.db_workers)
    watcher: DrainWatcher | None = None
    server = GunicornServer(env, log_dir / f"round{round_index}-{mode}.log")
    try:
        with contextlib.ExitStack() as stack:
            if workers is not None:
                stack.enter_context(workers)  # stopped last, on error too
                workers.wait_ready()
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
                # Whose CPU: gunicorn (master and workers), the worker
                # processes of the mode, PostgreSQL (backends included), Redis
                # (mode celery, the broker; other modes do not use it).
                trees = {
                    "gunicorn": [server.pid] if server.pid else [],
                    "workers": workers.pids if workers is not None else [],
                    "postgres": postmaster_pids(),
                    "redis": pids_named("redis-server") if mode == "celery" else [],
                }
                with ActivitySampler(db) as sampler:
                    tree_before = {k: tree_cpu_seconds(v) for k, v in trees.items()}
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
                    tree_seconds = {
                        k: tree_cpu_seconds(v) - tree_before[k] for k, v in trees.items()
                    }
                load_end = time.monotonic()
                # What the background has written by the time the last
                # response came: the rest is still queued, and is written
                # while the server drains (thread backend) or by the workers.
                at_load_end = db.count_rows()
                if mode != "none":
                    watcher = DrainWatcher(db, load_end, plan.drain_timeout_s).start()
                server.stop()
            if watcher is not None:
                # The workers run until every receipt is written (or the
                # drain timeout): stopping them earlier would leave jobs queued.
                watcher.join()
    finally:
        if mode == "celery":
            flush_redis(plan.redis_url)
    backends_left = db.wait_idle()
    # Sessions of our own opened in the window: count_rows() above, and the
    # drain watcher's connection.
    sessions = db.sessions() - sessions_before - 1 - (1 if watcher is not None else 0)
    final = db.count_rows()
    log_rows = db.count_table("eventx_signals_receiverrun") if mode == "async+log" else None
    spans = count_spans(span_dir) if mode == "async+trace" else None
    unexpected = server.unexpected_log_lines()
    if workers is not None:
        unexpected += workers.unexpected_log_lines()
    if watcher is not None and watcher.error:
        unexpected.append(f"[drain watcher] {watcher.error}")

    sent = max(1, load.warmup_sent + load.answered)
    cpu_split = {k: v * 1000 / sent for k, v in tree_seconds.items() if trees[k]}
    cpu_split["other"] = cpu_seconds * 1000 / sent - sum(cpu_split.values())
    drained_cpu = (
        None
        if watcher is None or watcher.busy_cpu_at_drain is None
        else (watcher.busy_cpu_at_drain - cpu_before) * 1000 / sent
    )

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
        cpu_ms_per_request=cpu_seconds * 1000 / sent,
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
        unexpected_log_lines=unexpected[:50],
        latencies_ms=[round(v, 3) for v in latencies_ms],
        drain_seconds=None if watcher is None else watcher.drained_after_s,
        cpu_ms_per_request_drained=drained_cpu,
        cpu_split_ms_per_request=cpu_split,
        log_rows=log_rows,
        spans=spans,
        worker_processes=0 if workers is None else len(workers.log_paths),
        worker_stop_seconds=None if workers is None else workers.stop_seconds,
        worker_returncodes=[] if workers is None else workers.returncodes,
        worker_killed=False if workers is None else workers.killed,
        worker_log_paths=[] if workers is None else [str(p) for p in workers.log_paths],
    )


def count_spans(span_dir: Path) -> dict[str, int]:
    """What the gunicorn workers of an async+trace run exported: SERVER spans
    (all requests, and the POST /orders/ ones), PRODUCER spans (dispatches),
    CONSUMER spans (receiver runs), and CONSUMER spans whose trace id is not
    that of any request span."""
    records = []
    files = sorted(span_dir.glob("spans-*.jsonl"))
    for path in files:
        with path.open() as file:
            records += [json.loads(line) for line in file if line.strip()]
    server = [r for r in records if r["kind"] == "SERVER"]
    consumer = [r for r in records if r["kind"] == "CONSUMER"]
    request_traces = {r["trace_id"] for r in server}
    return {
        "files": len(files),
        "server": len(server),
        "order_requests": sum(
            1 for r in server if r["method"] == "POST" and r["path"] == "/orders/"
        ),
        "producer": sum(1 for r in records if r["kind"] == "PRODUCER"),
        "consumer": len(consumer),
        "consumer_named_process": sum(1 for r in consumer if r["name"].startswith("process ")),
        "consumer_outside_request_trace": sum(
            1 for r in consumer if r["trace_id"] not in request_traces
        ),
    }
