"""
HTTP benchmark of django-eventx: does a request whose post_save receiver is
slow get faster under load when the receiver runs in the background?

    python benchmarks/http/run.py                       # 3 rounds x 1,000 requests per mode
    python benchmarks/http/run.py --rounds 1 --requests 200   # smoke test
    python benchmarks/http/run.py --modes all           # the seven modes

Each mode is its own gunicorn run (gthread, 2 workers x 4 threads) on a
fresh PostgreSQL database with Django's default connection settings:
none (no receiver), inline (Django's post_save), async (EVENTX_ASYNC_SIGNALS,
the thread backend); with --modes also async+log (async with the run log),
async+trace (async with the OpenTelemetry SDK and a span per request),
celery (CeleryBackend on Redis, a real `celery worker`) and tasks
(DjangoTasksBackend on django-tasks-db, real `db_worker` processes).
Modes are interleaved in rounds, the first mode rotating, and compared as
ratios. See benchmarks/http/README.rst.

    run.py       command line, rounds, versions, output
    measure.py   one mode, one gunicorn run, one fresh database
    server.py    gunicorn: start, readiness, SIGTERM and wait
    workers.py   celery worker / db_worker processes of the celery and tasks modes
    load.py      the closed-loop keep-alive load client
    database.py  PostgreSQL: database, connections, sessions, row counts
    stats.py     percentiles, medians, ratios
    machine.py   busy CPU time of the machine
    report.py    tables, targets, JSON
    project.py   environment of the Django child processes
    httpbench/, shop/   the Django project under test
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from database import MAINTENANCE_DB, BenchDatabase, connect
from measure import OUT_OF_PROCESS, LoadPlan, RunResult, measure
from project import DEFAULT_REDIS_URL, HERE, PgServer, child_env, probe_versions
from report import DEFAULT_MODES, MODES, markdown, ratios, targets, write_json
from server import THREADS, WORKERS

RESULTS = HERE.parent / "results"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the modes [3]")
    parser.add_argument(
        "--modes",
        default=",".join(DEFAULT_MODES),
        help=f"comma-separated modes among {', '.join(MODES)}, or 'all' "
        f"[{','.join(DEFAULT_MODES)}]",
    )
    parser.add_argument(
        "--requests", type=int, default=1000, help="recorded requests per mode per round [1000]"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client connections [8]")
    parser.add_argument(
        "--warmup", type=int, default=50, help="requests per run before recording starts [50]"
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=300.0,
        help="seconds a run's load may last at most [300]",
    )
    parser.add_argument(
        "--no-balance",
        action="store_true",
        help="leave the connections wherever gunicorn accepts them "
        "(by default they are spread evenly over its 2 workers)",
    )
    parser.add_argument(
        "--db", default="eventx_http_bench", help="database (dropped and recreated)"
    )
    parser.add_argument("--pg-host", default="127.0.0.1", help="PostgreSQL host [127.0.0.1]")
    parser.add_argument("--pg-port", type=int, default=5432, help="PostgreSQL port [5432]")
    parser.add_argument(
        "--pg-user",
        default="postgres",
        help="PostgreSQL user, a superuser (password from PGPASSWORD) [postgres]",
    )
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS_URL,
        help="Celery's broker in mode celery, a Redis database of its own: FLUSHDB "
        f"before and after [{DEFAULT_REDIS_URL}]",
    )
    parser.add_argument(
        "--celery-concurrency", type=int, default=4, help="celery worker threads [4]"
    )
    parser.add_argument(
        "--db-workers", type=int, default=2, help="db_worker processes in mode tasks [2]"
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=120.0,
        help="seconds to wait after load end for every receipt [120]",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS / "http.json",
        help="JSON results [benchmarks/results/http.json]",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.requests < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--rounds, --requests and --concurrency must be >= 1, --warmup >= 0")
    if args.celery_concurrency < 1 or args.db_workers < 1:
        parser.error("--celery-concurrency and --db-workers must be >= 1")
    names = MODES if args.modes.strip() == "all" else args.modes.split(",")
    modes = [m.strip() for m in names if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes or len(set(modes)) != len(modes):
        parser.error(f"--modes: give distinct modes among {', '.join(MODES)}, or 'all'")
    # In the order of MODES, whatever the order given.
    args.modes = tuple(m for m in MODES if m in modes)
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so every `with` stops its server.
    raise KeyboardInterrupt


def schedule(rounds: int, modes: tuple[str, ...] = DEFAULT_MODES) -> list[tuple[int, int, str]]:
    """(round, position, mode): the first mode rotates from round to round, so
    no mode always runs first (cold caches) or last (warm machine)."""
    plan = []
    for round_index in range(1, rounds + 1):
        shift = (round_index - 1) % len(modes)
        order = modes[shift:] + modes[:shift]
        plan += [(round_index, position, mode) for position, mode in enumerate(order)]
    return plan


def describe(run: RunResult) -> str:
    missing = "-" if run.missing is None else str(run.missing)
    return (
        f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  {run.throughput_rps:5.0f} req/s"
        f"  CPU {run.cpu_ms_per_request:4.1f} ms/req"
        f"  non-2xx {run.failures}  receipts {run.receipts}/{run.orders}"
        f" (at load end {run.receipts_at_load_end}, missing {missing})"
        f"  PG conns max {run.pg_backends['max']:.0f}  sessions {run.sessions}"
        f"  stop {run.stop_seconds:.1f} s"
        + (
            ""
            if run.mode == "none"
            else "  drain "
            + ("timeout" if run.drain_seconds is None else f"{run.drain_seconds:.1f} s")
        )
        + ("" if run.log_rows is None else f"  log rows {run.log_rows}")
        + (
            ""
            if run.spans is None
            else f"  spans: server {run.spans['server']} (orders {run.spans['order_requests']})"
            f" producer {run.spans['producer']} consumer {run.spans['consumer']}"
            f" (outside a request's trace {run.spans['consumer_outside_request_trace']})"
        )
        + f"  per worker {'/'.join(map(str, run.worker_split))}"
        f" ({run.placement_attempts} connects{'' if run.balanced else ', not balanced'})"
    )


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    pg = PgServer(args.pg_host, args.pg_port, args.pg_user, os.environ.get("PGPASSWORD", ""))
    with connect(pg, MAINTENANCE_DB) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        pg_version = str(row[0]) if row else "?"
    distributions = []
    if "celery" in args.modes:
        distributions += ["celery", "redis"]
    if "tasks" in args.modes:
        distributions += ["django-tasks", "django-tasks-db"]
    versions = probe_versions(child_env("async", args.db, pg), distributions)
    load_start = os.getloadavg()
    meta: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": platform.python_version(),
        **versions,
        "postgresql": pg_version,
        "cpus": os.cpu_count(),
        "loadavg_start": load_start,
        "gunicorn_args": f"--worker-class gthread --workers {WORKERS} --threads {THREADS}",
        "modes": list(args.modes),
        "rounds": args.rounds,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "database": args.db,
        "balance": not args.no_balance,
    }
    if any(m in OUT_OF_PROCESS for m in args.modes):
        meta.update(
            redis_url=args.redis_url,
            celery_worker_args=f"--pool threads --concurrency {args.celery_concurrency}",
            db_workers=args.db_workers,
            drain_timeout=args.drain_timeout,
        )
    placement = "left unbalanced on" if args.no_balance else "spread evenly over"
    header = (
        f"django-eventx HTTP benchmark: Python {meta['python']}, Django {versions['django']}, "
        f"gunicorn {versions['gunicorn']}, psycopg {versions['psycopg']}, "
        f"PostgreSQL {pg_version}, {meta['cpus']} CPUs; eventx_signals "
        f"{versions['eventx_signals']} from {versions['eventx_signals_file']}"
        + (
            f" (commit {versions['eventx_signals_commit'][:10]}, uncommitted changes: "
            f"{versions['eventx_signals_uncommitted_changes']})"
            if "eventx_signals_commit" in versions
            else ""
        )
        + "".join(f", {name} {versions[name]}" for name in distributions)
        + f"; modes {', '.join(args.modes)}"
        + (
            f" (celery worker --pool threads --concurrency {args.celery_concurrency})"
            if "celery" in args.modes
            else ""
        )
        + (f" ({args.db_workers} db_worker processes)" if "tasks" in args.modes else "")
        + f"; {args.rounds} rounds x {args.requests} requests per mode, concurrency "
        f"{args.concurrency} ({placement} the {WORKERS} workers), warm-up {args.warmup}; "
        f"{meta['started']}"
    )
    print(header + "\n", flush=True)

    plan = LoadPlan(
        args.requests,
        args.concurrency,
        args.warmup,
        args.time_limit,
        balance=not args.no_balance,
        drain_timeout_s=args.drain_timeout,
        celery_concurrency=args.celery_concurrency,
        db_workers=args.db_workers,
        redis_url=args.redis_url,
    )
    runs: list[RunResult] = []
    started = time.monotonic()
    width = max(6, *map(len, args.modes))
    try:
        for round_index, position, mode in schedule(args.rounds, args.modes):
            run = measure(mode, round_index, position, plan, pg, args.db, RESULTS / "http-logs")
            runs.append(run)
            print(
                f"round {round_index}/{args.rounds}  {mode:<{width}}  {describe(run)}", flush=True
            )
            for line in run.unexpected_log_lines[:5]:
                print(f"    server log: {line}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, nothing written", file=sys.stderr)
        return 130
    finally:
        BenchDatabase(pg, args.db).drop()

    meta["seconds"] = round(time.monotonic() - started, 1)
    meta["loadavg_end"] = os.getloadavg()
    found = ratios(runs, args.rounds)
    checks = targets(runs, found)
    text = markdown(runs, found, checks, args.rounds, header)
    # The header was printed at the start; the saved text keeps it.
    print("\n" + text.split("\n", 1)[1].lstrip("\n"))
    write_json(args.output, meta, runs, found, checks, text)
    print(
        f"written: {args.output} (server logs in {RESULTS / 'http-logs'}); {meta['seconds']:.0f} s"
    )
    return 0  # a MISS is a finding, not a failure


if __name__ == "__main__":
    sys.exit(main())
