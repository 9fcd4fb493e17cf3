"""
Benchmarks of django-eventx. Run from the repository root:

    python benchmarks/run.py            # full run (1 to 2 minutes on 2 cores)
    python benchmarks/run.py --quick    # short run, for a smoke test
    python benchmarks/run.py --json benchmarks/results/run.json   # also save the results

Every comparison runs its contenders side by side in the same process,
interleaved round by round, and is reported as the median of the per-round
ratios. See benchmarks/README.rst for what each benchmark measures and how.

    run.py      settings, the order of the benchmarks, the targets table
    cases.py    the four benchmarks
    harness.py  interleaving, medians, ratios, memory readings, tables
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import django
from django.conf import settings
from harness import MB, table


def configure_django() -> None:
    """Minimal in-memory settings; EVENTX_* settings keep their defaults."""
    settings.configure(
        DEBUG=False,
        SECRET_KEY="eventx-benchmarks",
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",  # User: a realistic model instance to send
            "eventx_signals",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller batches")
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write the results to PATH as JSON"
    )
    args = parser.parse_args()
    configure_django()
    from cases import bench_fast_path, bench_memory, bench_request_path, bench_throughput

    import eventx_signals

    print(
        f"django-eventx {eventx_signals.__version__} benchmarks"
        f"{' (--quick)' if args.quick else ''}: Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n"
    )
    started = time.perf_counter()
    # The memory benchmark runs first, while the process is fresh; its table
    # is printed last, in the order of the issue.
    memory_text, memory = bench_memory(args.quick)
    text, request = bench_request_path(args.quick)
    print(text, end="\n\n", flush=True)
    text, fast = bench_fast_path(args.quick)
    print(text, end="\n\n", flush=True)
    text, throughput = bench_throughput(args.quick)
    print(text, end="\n\n", flush=True)
    print(memory_text, end="\n\n")

    targets = [
        (
            "1. AsyncSignal.send / Signal.send",
            request["eventx/django"],
            "<= 2.00x",
            request["eventx/django"] <= 2.0,
            "{:.2f}x",
        ),
        ("2. no-receiver send / Django's", fast, "<= 1.20x", fast <= 1.2, "{:.2f}x"),
        (
            "3. throughput / executor, 4 workers",
            throughput[4],
            ">= 1.50x",
            throughput[4] >= 1.5,
            "{:.2f}x",
        ),
        (
            "4. full queue, traced MB",
            memory["traced"] / MB,
            "< 20 MB",
            memory["traced"] < 20 * MB,
            "{:.2f} MB",
        ),
    ]
    print(
        table(
            "Targets",
            ["benchmark", "measured", "target", "result"],
            [
                (name, fmt.format(value), target, "PASS" if ok else "MISS")
                for name, value, target, ok, fmt in targets
            ],
        )
    )
    elapsed = time.perf_counter() - started
    print(
        f"\nInformational: ThreadPoolExecutor.submit / Signal.send = "
        f"{request['executor/django']:.2f}x (expected 4-5x); "
        f"total time {elapsed:.0f} s."
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "benchmark": "run",
            "quick": args.quick,
            "eventx_version": eventx_signals.__version__,
            "python": platform.python_version(),
            "django": django.get_version(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "request_path": request,
            "fast_path": fast,
            "throughput": {str(k): v for k, v in throughput.items()},
            "memory_bytes": memory,
            "targets": [
                {
                    "name": name,
                    "measured": value,
                    "display": fmt.format(value),
                    "target": target,
                    "met": ok,
                }
                for name, value, target, ok, fmt in targets
            ],
            "seconds": elapsed,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"Results written to {args.json}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
