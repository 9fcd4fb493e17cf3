"""
Pruning the run log with an audit-style post_delete receiver connected. Run from the
repository root:

    python benchmarks/prune.py                  # 500,000 old rows
    python benchmarks/prune.py --rows 50000

Deletes ``--rows`` run log rows older than the retention twice, from the
same freshly seeded table (plus 1,000 recent rows that must stay), each time
in a fresh child process set up as a project that has such a receiver:
``EVENTX_RECORD_RUNS`` on, ``post_delete`` made async by
``EVENTX_ASYNC_SIGNALS`` (thread backend, default options), and a
``@receiver(post_delete)`` with no sender, whose presence forbids Django's
fast delete. The contenders:

``QuerySet.delete()``
    ``ReceiverRun.objects.filter(finished_at__lt=cutoff).delete()``, what
    ``prune()`` did before it used SQL of its own: Django loads every row,
    sends ``pre_delete``/``post_delete`` for each, and each dispatch runs the
    receiver and writes a run log row of its own.
``prune()``
    ``eventx_signals.runlog.prune()`` as it is.
``QuerySet.delete(), no receiver``
    The first without the audit receiver, for scale: Django then deletes
    without loading the rows (its fast delete).

Reported for each: seconds of the delete call; seconds until everything it
dispatched had run and its run log rows were written; peak resident memory
of the process (``VmHWM``) and its growth over the process at rest;
receiver runs of the audit receiver; run log rows those runs wrote, and
rows the run log dropped (``stats()["run_log_dropped"]``); and whether
exactly the old rows were deleted. Child processes, so that each peak is its
own. The writer's hourly prune is kept out of the way
(``EVENTX_RECORD_RETENTION_DAYS`` of 10 years; the contenders delete rows
older than 20 days, the seeded ones being 30 days old).

Database: EVENTX_BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/eventx_bench, created if missing); its
run log table is emptied before each contender and at the end. Prints a
table, and with ``--json PATH`` writes the figures there.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import django
from django.conf import settings
from harness import MB, table

DATABASE_URL = os.environ.get(
    "EVENTX_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/eventx_bench"
)
OLD_DAYS, PRUNE_DAYS = 30, 20
RECENT_ROWS = 1_000
CONTENDERS = {
    "queryset_delete": "QuerySet.delete()",
    "prune": "prune()",
    "no_receiver": "QuerySet.delete(), no receiver",
}


def database_settings(url: str) -> dict[str, object]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"EVENTX_BENCH_DATABASE_URL must be a postgres:// URL, not {url!r}.")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parsed.path.lstrip("/") or "eventx_bench",
        "USER": parsed.username or "postgres",
        "PASSWORD": parsed.password or "",
        "HOST": parsed.hostname or "127.0.0.1",
        "PORT": str(parsed.port or 5432),
    }


def configure_django() -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="eventx-benchmarks",
        USE_TZ=True,
        INSTALLED_APPS=["django.contrib.contenttypes", "eventx_signals"],
        DATABASES={"default": database_settings(DATABASE_URL)},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        EVENTX_RECORD_RUNS=True,
        EVENTX_RECORD_RETENTION_DAYS=3650,
        EVENTX_ASYNC_SIGNALS=["django.db.models.signals.post_delete"],
        EVENTX_AUTODISCOVER=False,
    )
    django.setup()


def memory_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found in /proc/self/status")


# -- the child: one contender ------------------------------------------------------


def run_contender(name: str) -> dict[str, object]:
    from django.db.models.signals import post_delete
    from django.utils import timezone

    from eventx_signals import stats
    from eventx_signals.models import ReceiverRun
    from eventx_signals.runlog import prune, writer
    from eventx_signals.testing import wait_for_runs

    audited = []

    def audit(sender, instance, **kwargs):  # an audit log would write a row here
        audited.append(1)

    if name != "no_receiver":
        post_delete.connect(audit, weak=False)
    at_rest = memory_kb("VmRSS")
    started = time.perf_counter()
    if name != "prune":
        cutoff = timezone.now() - datetime.timedelta(days=PRUNE_DAYS)
        deleted, _ = ReceiverRun.objects.filter(finished_at__lt=cutoff).delete()
    else:
        deleted = prune(PRUNE_DAYS)
    delete_seconds = time.perf_counter() - started
    wait_for_runs(3600)
    writer.flush(600)
    settled_seconds = time.perf_counter() - started
    return {
        "delete_s": delete_seconds,
        "settled_s": settled_seconds,
        "peak_rss_mb": memory_kb("VmHWM") * 1024 / MB,
        "growth_mb": (memory_kb("VmHWM") - at_rest) * 1024 / MB,
        "deleted": deleted,
        "receiver_runs": len(audited),
        "new_log_rows": ReceiverRun.objects.filter(event__endswith="post_delete").count(),
        "log_rows_dropped": stats()["run_log_dropped"],
        "left": ReceiverRun.objects.exclude(event__endswith="post_delete").count(),
    }


# -- the parent: seeding, one child per contender, the table --------------------------


def create_database() -> None:
    import psycopg
    from psycopg import sql

    params = settings.DATABASES["default"]
    with psycopg.connect(
        dbname="postgres",
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"],
        port=params["PORT"],
        autocommit=True,
    ) as admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [params["NAME"]]
        ).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(params["NAME"])))


SEED = """
INSERT INTO eventx_signals_receiverrun (event, sender, receiver, backend, status, attempt,
    queued_at, started_at, finished_at, duration_ms, error_type, error_message, traceback,
    kwargs, process)
SELECT 'shop.signals.order_paid', 'shop.Order', 'shop.receivers.send_receipt', 'default',
    'succeeded', 1, t, t, t, 12.5, '', '', '', '', 'web-1:4242'
FROM (SELECT now() - make_interval(days => %s) - g * interval '1 millisecond' AS t
      FROM generate_series(1, %s) AS g) AS times
"""


def seed(rows: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE eventx_signals_receiverrun RESTART IDENTITY")
        cursor.execute(SEED, [OLD_DAYS, rows])
        cursor.execute(SEED, [0, RECENT_ROWS])
        cursor.execute("ANALYZE eventx_signals_receiverrun")


def run_child(name: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", name],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{name} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000, help="old rows (default 500,000)")
    parser.add_argument("--only", choices=sorted(CONTENDERS), help="run one contender")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        configure_django()
        print(json.dumps(run_contender(args.child)))
        return 0

    configure_django()
    create_database()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "eventx_signals", verbosity=0)
    results = {}
    for name in [args.only] if args.only else list(CONTENDERS):
        seed(args.rows)
        connection.close()  # the child gets the table to itself
        print(f"{CONTENDERS[name]}: {args.rows:,} old rows ...", flush=True)
        results[name] = run_child(name)
    seed(0)
    rows = [
        (
            CONTENDERS[name],
            f"{r['delete_s']:.2f}",
            f"{r['settled_s']:.2f}",
            f"{r['peak_rss_mb']:.0f}",
            f"{r['growth_mb']:.0f}",
            f"{r['receiver_runs']:,}",
            f"{r['new_log_rows']:,}",
            f"{r['log_rows_dropped']:,}",
            "yes" if r["deleted"] == args.rows and r["left"] == RECENT_ROWS else "NO",
        )
        for name, r in results.items()
    ]
    print(
        table(
            f"Pruning {args.rows:,} old run log rows with a post_delete receiver of every sender "
            f"({datetime.date.today()}, Python {platform.python_version()}, "
            f"Django {django.get_version()}, {os.cpu_count()} CPUs)",
            [
                "contender",
                "delete s",
                "settled s",
                "peak RSS MB",
                "growth MB",
                "receiver runs",
                "new log rows",
                "log rows dropped",
                "right rows gone",
            ],
            rows,
        )
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": args.rows, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
