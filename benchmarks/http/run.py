"""
HTTP benchmark of django-eventx: does a request whose post_save receiver is
slow get faster under load when the receiver runs in the background?

    python benchmarks/http/run.py                       # 3 rounds x 1,000 requests per mode
    python benchmarks/http/run.py --rounds 1 --requests 200   # smoke test

Three modes, each its own gunicorn run (gthread, 2 workers x 4 threads) on a
fresh PostgreSQL database with Django's default connection settings:
none (no receiver), inline (Django's post_save), async (EVENTX_ASYNC_SIGNALS).
Modes are interleaved in rounds, the first mode rotating, and compared as
ratios. See benchmarks/http/README.rst.

    run.py       command line, rounds, versions, output
    measure.py   one mode, one gunicorn run, one fresh database
    server.py    gunicorn: start, readiness, SIGTERM and wait
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
from measure import LoadPlan, RunResult, measure
from project import HERE, PgServer, child_env, probe_versions
from report import MODES, markdown, ratios, targets, write_json
from server import THREADS, WORKERS

RESULTS = HERE.parent / "results"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three modes [3]")
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
        "--output",
        type=Path,
        default=RESULTS / "http.json",
        help="JSON results [benchmarks/results/http.json]",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.requests < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--rounds, --requests and --concurrency must be >= 1, --warmup >= 0")
    return args


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so every `with` stops its server.
    raise KeyboardInterrupt


def schedule(rounds: int) -> list[tuple[int, int, str]]:
    """(round, position, mode): the first mode rotates from round to round, so
    no mode always runs first (cold caches) or last (warm machine)."""
    plan = []
    for round_index in range(1, rounds + 1):
        shift = (round_index - 1) % len(MODES)
        order = MODES[shift:] + MODES[:shift]
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
        f"  per worker {'/'.join(map(str, run.worker_split))}"
        f" ({run.placement_attempts} connects{'' if run.balanced else ', not balanced'})"
    )


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    pg = PgServer(args.pg_host, args.pg_port, args.pg_user, os.environ.get("PGPASSWORD", ""))
    with connect(pg, MAINTENANCE_DB) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        pg_version = str(row[0]) if row else "?"
    versions = probe_versions(child_env("async", args.db, pg))
    load_start = os.getloadavg()
    meta: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": platform.python_version(),
        **versions,
        "postgresql": pg_version,
        "cpus": os.cpu_count(),
        "loadavg_start": load_start,
        "gunicorn_args": f"--worker-class gthread --workers {WORKERS} --threads {THREADS}",
        "rounds": args.rounds,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "database": args.db,
        "balance": not args.no_balance,
    }
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
        + f"; {args.rounds} rounds x {args.requests} requests per mode, concurrency "
        f"{args.concurrency} ({placement} the {WORKERS} workers), warm-up {args.warmup}; "
        f"{meta['started']}"
    )
    print(header + "\n", flush=True)

    plan = LoadPlan(
        args.requests, args.concurrency, args.warmup, args.time_limit, balance=not args.no_balance
    )
    runs: list[RunResult] = []
    started = time.monotonic()
    try:
        for round_index, position, mode in schedule(args.rounds):
            run = measure(mode, round_index, position, plan, pg, args.db, RESULTS / "http-logs")
            runs.append(run)
            print(f"round {round_index}/{args.rounds}  {mode:<6}  {describe(run)}", flush=True)
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
