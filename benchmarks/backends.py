"""
Request-path cost of the out-of-process backends. Run from the repository root:

    python benchmarks/backends.py                  # 20 rounds x 200 sends per contender
    python benchmarks/backends.py --rounds 5 --sends 100
    python benchmarks/backends.py --profile        # also cProfile our sends

What one ``AsyncSignal.send(sender=Order, instance=order, created=True)`` with
one connected receiver costs the calling thread when the receiver run is
handed to Celery (Redis broker) or to Django Tasks (django-tasks-db on
PostgreSQL), next to the engine's own hand-off of a payload of the same
content (``bare_task.apply_async(...)`` / ``bare_task.enqueue(...)``), and
next to the default thread backend. No worker runs: Celery messages and task
rows pile up and are removed at the start and at the end.

Services: EVENTX_BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/eventx_bench, created if missing) and
EVENTX_BENCH_REDIS_URL (default redis://127.0.0.1:6379/7; FLUSHDB at the
start and at the end, so give it a database of its own).

Measured as wall-clock time of the calling thread (``time.perf_counter_ns``)
around a batch of sends, divided by the batch size: the request waits for the
broker or database round trip, which CPU time would leave out. The caller's
CPU time (``time.thread_time_ns``) is shown next to it: it is what our
Python code adds, free of network jitter. Contenders are interleaved round by
round (in a new random order each round), a warm-up round (opening connections)
is thrown away, and ratios are medians of per-round ratios; see
benchmarks/README.rst. Results: printed tables and
benchmarks/results/backends.json. Exit status 0 unless a service is missing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import sys
import time
from decimal import Decimal
from io import StringIO
from itertools import repeat
from pathlib import Path
from urllib.parse import urlparse

import django
from celery import Celery
from django.conf import settings
from harness import interleave, median, paired_ratio, spread, table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.testapp (its Order model)

DATABASE_URL = os.environ.get(
    "EVENTX_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/eventx_bench"
)
REDIS_URL = os.environ.get("EVENTX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
CELERY_QUEUE = "eventx-bench"
RESULTS = HERE / "results" / "backends.json"

# Targets: our layer over each engine costs at most 1.15x the engine's own
# hand-off; each engine costs the caller at least 50x the thread backend.
OURS_RAW_TARGET = 1.15
ENGINE_THREAD_TARGET = 50.0
# Signing the payload adds at most 5% to the hand-off.
SIGNING_TARGET = 1.05


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
    """PostgreSQL, the three backends as aliases, EVENTX_* otherwise at
    their defaults (EVENTX_ON_COMMIT on: the send checks for an open
    transaction, and finds none)."""
    settings.configure(
        DEBUG=False,
        SECRET_KEY="eventx-benchmarks",
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django_tasks_db",
            "eventx_signals",
            "tests.testapp",  # Order: a realistic saved instance to send
        ],
        DATABASES={"default": database_settings(DATABASE_URL)},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}},
        EVENTX_BACKENDS={
            "thread": {"BACKEND": "eventx_signals.backends.thread.ThreadBackend"},
            "celery": {
                "BACKEND": "eventx_signals.backends.celery.CeleryBackend",
                "OPTIONS": {"app": f"{__name__}.app", "queue": CELERY_QUEUE},
            },
            "tasks": {"BACKEND": "eventx_signals.backends.django_tasks.DjangoTasksBackend"},
        },
        # Only this module's receivers: tests.testapp's listeners stay out.
        EVENTX_AUTODISCOVER=False,
    )
    django.setup()


# Module level, before the Tasks below: making a Task needs the settings.
configure_django()

from django.db import connection

from eventx_signals import AsyncSignal
from eventx_signals.backends.out_of_process import OutOfProcessBackend
from eventx_signals.dispatch.signals import send_in_background
from tests.testapp.models import Order

try:  # Django 6.x
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Django 5.2: the backport
    from django_tasks import task

app = Celery("eventx_bench", broker=REDIS_URL, set_as_current=True)
app.conf.update(
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
)


@app.task(name="eventx_bench.bare_task")
def bare_celery_task(payload):
    pass


@task()
def bare_django_task(payload):
    pass


# Module-level signals and receiver: the out-of-process backends refuse
# anything a worker process could not find again by name.
order_saved_celery = AsyncSignal(backend="celery")
order_saved_tasks = AsyncSignal(backend="tasks")
order_saved_thread = AsyncSignal(backend="thread")


def on_order_saved(sender, instance, created, **kwargs):
    pass


for _signal in (order_saved_celery, order_saved_tasks, order_saved_thread):
    _signal.connect(on_order_saved)


# -- services -------------------------------------------------------------------


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


def clear_services() -> None:
    """Empty the Redis database and the task table."""
    import redis
    from django_tasks_db.models import DBTaskResult

    with redis.Redis.from_url(REDIS_URL) as client:
        client.flushdb()
    DBTaskResult.objects.all().delete()


def celery_messages() -> int:
    """Messages waiting in the benchmark's queue (kombu's Redis transport
    keeps one list per queue and priority step)."""
    import redis

    with redis.Redis.from_url(REDIS_URL) as client:
        return sum(
            client.llen(key)
            for key in client.scan_iter(match=f"{CELERY_QUEUE}*")
            if client.type(key) == b"list"
        )


def task_rows() -> dict[str, int]:
    from django_tasks_db.models import DBTaskResult

    return {
        path: DBTaskResult.objects.filter(task_path=path).count()
        for path in (
            "eventx_signals.backends.django_tasks.run_receiver",
            bare_django_task.module_path,
        )
    }


class CapturingBackend(OutOfProcessBackend):
    """Keeps the payload our layer would hand to an engine."""

    def __init__(self) -> None:
        super().__init__("capture")
        self.payloads: list[dict] = []

    def enqueue(self, payload):
        self.payloads.append(payload)


def our_payload(order: Order) -> dict:
    """The payload our layer builds for this send, as an independent copy:
    the raw engines get the same content (and size)."""
    capture = CapturingBackend()
    send_in_background(
        order_saved_celery, Order, {"instance": order, "created": True}, False, capture, False
    )
    return json.loads(json.dumps(capture.payloads[0]))


# -- the benchmark -----------------------------------------------------------------

LABELS = {
    "celery_ours": "Celery: AsyncSignal.send",
    "celery_unsigned": "Celery: AsyncSignal.send, payload unsigned",
    "celery_raw": "Celery: bare_task.apply_async",
    "tasks_ours": "Django Tasks: AsyncSignal.send",
    "tasks_unsigned": "Django Tasks: AsyncSignal.send, payload unsigned",
    "tasks_raw": "Django Tasks: bare_task.enqueue",
    "thread": "thread backend: AsyncSignal.send",
}


def unsigned(measure):
    """``measure()`` with payload signing turned off (the benchmark's own
    switch: a worker would refuse these payloads, and none runs here)."""
    from eventx_signals.backends.out_of_process import signing as payload_signing

    def measured():
        sign = payload_signing.sign
        payload_signing.sign = lambda payload: payload
        try:
            return measure()
        finally:
            payload_signing.sign = sign

    return measured


def contenders(order: Order, payload: dict, sends: int) -> dict:
    from eventx_signals.testing import wait_for_runs

    def timed(send) -> tuple[float, float]:
        """(wall ns, caller CPU ns) per dispatch; what a send returns is
        dropped, as a request drops it."""
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        for _ in repeat(None, sends):
            send()
        return (
            (time.perf_counter_ns() - wall) / sends,
            (time.thread_time_ns() - cpu) / sends,
        )

    def celery_ours():
        return timed(lambda: order_saved_celery.send(sender=Order, instance=order, created=True))

    def celery_raw():
        return timed(lambda: bare_celery_task.apply_async(args=[payload], queue=CELERY_QUEUE))

    def tasks_ours():
        return timed(lambda: order_saved_tasks.send(sender=Order, instance=order, created=True))

    def tasks_raw():
        return timed(lambda: bare_django_task.enqueue(payload))

    def thread():
        result = timed(lambda: order_saved_thread.send(sender=Order, instance=order, created=True))
        wait_for_runs(timeout=60)  # drained outside the timed region
        return result

    return {
        "celery_ours": celery_ours,
        "celery_unsigned": unsigned(celery_ours),
        "celery_raw": celery_raw,
        "tasks_ours": tasks_ours,
        "tasks_unsigned": unsigned(tasks_ours),
        "tasks_raw": tasks_raw,
        "thread": thread,
    }


def profile_ours(order: Order, sends: int) -> str:
    """cProfile of our sends over each engine: where our layer spends its time."""
    parts = []
    for name, signal in (("Celery", order_saved_celery), ("Django Tasks", order_saved_tasks)):
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in repeat(None, sends):
            signal.send(sender=Order, instance=order, created=True)
        profiler.disable()
        out = StringIO()
        # Our layer's functions, and the Tasks API calls it makes that the
        # raw enqueue does not (using() makes a Task, validated, per send).
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(r"eventx_signals|\((using|replace|validate_task)\)", 16)
        body = out.getvalue()
        start = body.find("   ncalls")
        parts.append(
            f"cProfile, AsyncSignal.send over {name} ({sends} sends, {stats.total_tt:.3f} s "
            "profiled), our functions by cumulative time:"
        )
        parts.append(body[start:].rstrip())
    return "\n\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="measured rounds (default 20)")
    parser.add_argument("--sends", type=int, default=200, help="sends per batch (default 200)")
    parser.add_argument("--profile", action="store_true", help="cProfile our sends afterwards")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS,
        help="JSON results (default benchmarks/results/backends.json)",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.sends < 1:
        parser.error("--rounds and --sends must be at least 1")

    from django.core.management import call_command

    import eventx_signals

    create_database()
    call_command("migrate", verbosity=0)
    clear_services()
    started = time.perf_counter()
    print(
        f"django-eventx {eventx_signals.__version__}, request-path cost of the backends: "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        f"PostgreSQL {connection.cursor().connection.info.server_version} "
        f"({settings.DATABASES['default']['NAME']}), Redis {REDIS_URL}\n"
    )
    order = Order.objects.create(number="A-100042", total=Decimal("129.90"))
    try:
        payload = our_payload(order)
        samples = interleave(contenders(order, payload, args.sends), args.rounds)
        # Every dispatch reached its engine: our layer logs a failed hand-off
        # instead of raising, which would otherwise pass for a cheap send.
        expected = (args.rounds + 1) * args.sends
        messages, rows = celery_messages(), task_rows()
        delivered = {"celery": messages, "tasks": rows}
        # Our sends (signed and unsigned) and the bare task's, per engine.
        if messages != 3 * expected or set(rows.values()) != {expected, 2 * expected}:
            print(f"WARNING: expected {expected} hand-offs per contender, found {delivered}\n")
        profile = profile_ours(order, args.sends) if args.profile else None
    finally:
        clear_services()
        order.delete()

    wall = {name: [w / 1000 for w, _ in values] for name, values in samples.items()}
    cpu = {name: [c / 1000 for _, c in values] for name, values in samples.items()}
    ratios = {
        "celery signed/unsigned": paired_ratio(wall["celery_ours"], wall["celery_unsigned"]),
        "tasks signed/unsigned": paired_ratio(wall["tasks_ours"], wall["tasks_unsigned"]),
        "celery ours/raw": paired_ratio(wall["celery_ours"], wall["celery_raw"]),
        "tasks ours/raw": paired_ratio(wall["tasks_ours"], wall["tasks_raw"]),
        "celery/thread": paired_ratio(wall["celery_ours"], wall["thread"]),
        "tasks/thread": paired_ratio(wall["tasks_ours"], wall["thread"]),
    }
    cpu_ratios = {
        "celery signed/unsigned": paired_ratio(cpu["celery_ours"], cpu["celery_unsigned"]),
        "tasks signed/unsigned": paired_ratio(cpu["tasks_ours"], cpu["tasks_unsigned"]),
        "celery ours/raw": paired_ratio(cpu["celery_ours"], cpu["celery_raw"]),
        "tasks ours/raw": paired_ratio(cpu["tasks_ours"], cpu["tasks_raw"]),
    }
    payload_bytes = len(json.dumps(payload))
    print(
        table(
            f"Request-path cost of one dispatch, one receiver ({args.rounds} rounds x "
            f"{args.sends} sends; payload {payload_bytes} bytes of JSON)",
            ["contender", "wall µs (median)", "spread", "caller CPU µs", "spread"],
            [
                (
                    LABELS[name],
                    f"{median(wall[name]):,.1f}",
                    spread(wall[name]),
                    f"{median(cpu[name]):,.1f}",
                    spread(cpu[name]),
                )
                for name in samples
            ],
        ),
        end="\n\n",
    )
    targets = [
        (
            "Celery: signed / unsigned",
            ratios["celery signed/unsigned"],
            f"<= {SIGNING_TARGET:.2f}x",
            ratios["celery signed/unsigned"] <= SIGNING_TARGET,
        ),
        (
            "Django Tasks: signed / unsigned",
            ratios["tasks signed/unsigned"],
            f"<= {SIGNING_TARGET:.2f}x",
            ratios["tasks signed/unsigned"] <= SIGNING_TARGET,
        ),
        (
            "Celery: ours / raw",
            ratios["celery ours/raw"],
            f"<= {OURS_RAW_TARGET:.2f}x",
            ratios["celery ours/raw"] <= OURS_RAW_TARGET,
        ),
        (
            "Django Tasks: ours / raw",
            ratios["tasks ours/raw"],
            f"<= {OURS_RAW_TARGET:.2f}x",
            ratios["tasks ours/raw"] <= OURS_RAW_TARGET,
        ),
        (
            "Celery / thread backend",
            ratios["celery/thread"],
            f">= {ENGINE_THREAD_TARGET:.0f}x",
            ratios["celery/thread"] >= ENGINE_THREAD_TARGET,
        ),
        (
            "Django Tasks / thread backend",
            ratios["tasks/thread"],
            f">= {ENGINE_THREAD_TARGET:.0f}x",
            ratios["tasks/thread"] >= ENGINE_THREAD_TARGET,
        ),
    ]
    print(
        table(
            "Targets (wall-clock, median of per-round ratios)",
            ["ratio", "measured", "target", "result"],
            [
                (name, f"{value:.2f}x", target, "PASS" if ok else "MISS")
                for name, value, target, ok in targets
            ],
        )
    )
    elapsed = time.perf_counter() - started
    print(
        f"\nInformational: caller CPU time ours / raw = {cpu_ratios['celery ours/raw']:.2f}x "
        f"(Celery), {cpu_ratios['tasks ours/raw']:.2f}x (Django Tasks); "
        f"hand-offs found: {delivered}; total time {elapsed:.0f} s."
    )
    if profile:
        print(f"\n{profile}")

    output = args.output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "benchmark": "backends",
                "eventx_version": eventx_signals.__version__,
                "python": platform.python_version(),
                "django": django.get_version(),
                "cpus": os.cpu_count(),
                "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "rounds": args.rounds,
                "sends": args.sends,
                "payload_bytes": payload_bytes,
                "contenders": {
                    name: {
                        "label": LABELS[name],
                        "wall_us_median": median(wall[name]),
                        "cpu_us_median": median(cpu[name]),
                        "wall_us": wall[name],
                        "cpu_us": cpu[name],
                    }
                    for name in samples
                },
                "ratios_wall": ratios,
                "ratios_cpu": cpu_ratios,
                "hand_offs_found": delivered,
                "targets": [
                    {"name": name, "measured": value, "target": target, "met": ok}
                    for name, value, target, ok in targets
                ],
                "seconds": elapsed,
            },
            indent=2,
        )
        + "\n"
    )
    print(
        f"Results written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
