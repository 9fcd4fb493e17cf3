"""
The benchmark report of django-eventx, in one command, from the repository
root (PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 needed):

    python benchmarks/report.py                       # about 8 minutes
    python benchmarks/report.py --rounds 1 --requests 200   # smoke test, about 2 minutes
    python benchmarks/report.py --with-instructions   # + callgrind counts (valgrind, slow)
    python benchmarks/report.py --reuse               # redraw from the last run's JSON

It runs, one after the other, each as its own process:

1. benchmarks/http/run.py --modes all: the order view with a 20 ms post_save
   receiver under gunicorn, in seven modes (none, inline, async, async+log, async+trace,
   celery, tasks), 5 rounds x 600 requests per mode, 8 clients; then the
   modes none, inline and async again with half the clients (4), where a
   2-core machine is not yet saturated (--unsaturated-concurrency);
2. benchmarks/backends.py: what one send() costs the request on the Celery
   and django_tasks backends, against the engines' own hand-off and the
   thread backend (10 rounds x 200 sends);
3. benchmarks/run.py --quick: the thread backend's targets (send cost, fast
   path, throughput, memory);
4. with --with-instructions, benchmarks/instructions.py (callgrind).

and writes benchmarks/report/report.md (tables) and
benchmarks/report/latency.png (p50 and p99 per HTTP mode, with throughput),
both meant to be committed. Raw results stay in benchmarks/results/
(git-ignored): report-http.json, report-backends.json, report-run.json,
report-instructions.json. See benchmarks/README.rst.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
OUTPUT = HERE / "report"

HTTP_JSON = RESULTS / "report-http.json"
HTTP_UNSATURATED_JSON = RESULTS / "report-http-unsaturated.json"
BACKENDS_JSON = RESULTS / "report-backends.json"
RUN_JSON = RESULTS / "report-run.json"
INSTRUCTIONS_JSON = RESULTS / "report-instructions.json"

#: The HTTP modes, in the order of the tables and the chart, with what runs
#: the receiver in each.
MODES = {
    "none": "no receiver connected",
    "inline": "Django's post_save, in the request",
    "async": "thread backend (`EVENTX_ASYNC_SIGNALS`)",
    "async+log": "the same, with the run log (`EVENTX_RECORD_RUNS`)",
    "async+trace": "async, with the OpenTelemetry SDK and a span per request",
    "celery": "`CeleryBackend`: Redis, a `celery worker`",
    "tasks": "`DjangoTasksBackend`: django-tasks-db, `db_worker`s",
}
CHART_LABELS = {
    "none": "none\nno receiver",
    "inline": "inline\nDjango signal",
    "async": "async\nthread backend",
    "async+log": "async+log\n+ run log",
    "async+trace": "async+trace\n+ OTel SDK",
    "celery": "celery\nCelery worker",
    "tasks": "tasks\ndb_worker",
}
#: HTTP ratios of the report: (label in the harness's JSON, target, shown as).
HTTP_RATIOS = [
    ("async p50 / none p50", "<= 1.30x"),
    ("async p50 / inline p50", "<= 0.75x"),
    ("async p99 / inline p99", None),
    ("async req/s / inline req/s", None),
    ("async+log p50 / async p50", "<= 1.10x"),
    ("async+log p99 / async p99", None),
    ("async+log req/s / async req/s", ">= 0.90x"),
    ("async+trace p50 / async p50", "<= 1.10x"),
    ("celery p50 / async p50", None),
    ("tasks p50 / async p50", None),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="HTTP rounds of the modes [5]")
    parser.add_argument(
        "--requests", type=int, default=600, help="HTTP requests per mode per round [600]"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP clients [8]")
    parser.add_argument(
        "--unsaturated-concurrency",
        type=int,
        default=4,
        help="HTTP clients of the second, unsaturated run of none/inline/async; 0: skip it [4]",
    )
    parser.add_argument(
        "--modes", default="all", help="HTTP modes, comma-separated, or 'all' [all]"
    )
    parser.add_argument(
        "--backends-rounds", type=int, default=10, help="rounds of backends.py [10]"
    )
    parser.add_argument(
        "--backends-sends", type=int, default=200, help="sends per batch of backends.py [200]"
    )
    parser.add_argument(
        "--with-instructions",
        action="store_true",
        help="also run benchmarks/instructions.py (needs valgrind; several minutes)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="run nothing: build the report from the JSON results of the last run",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=OUTPUT,
        help="where report.md and latency.png go [benchmarks/report]",
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.requests < 1 or args.concurrency < 1:
        parser.error("--rounds, --requests and --concurrency must be >= 1")
    return args


# -- running ----------------------------------------------------------------------


def run_step(title: str, command: list[str]) -> str | None:
    """Run one benchmark script, its output passed through; None if it
    succeeded, else why not."""
    print(f"\n=== {title}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    completed = subprocess.run([sys.executable, *command[1:]], cwd=ROOT)
    print(f"=== {title}: {time.monotonic() - started:.0f} s", flush=True)
    if completed.returncode != 0:
        return f"exited with status {completed.returncode}"
    return None


def run_all(args: argparse.Namespace) -> dict[str, str | None]:
    """Every benchmark, in turn; returns the failure of each (None: ran)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    failures: dict[str, str | None] = {}

    def http_run(modes: str, concurrency: int, output: Path) -> list[str]:
        return [
            sys.executable,
            "benchmarks/http/run.py",
            *("--modes", modes),
            *("--rounds", str(args.rounds)),
            *("--requests", str(args.requests)),
            *("--concurrency", str(concurrency)),
            *("--db", "eventx_http_report"),
            *("--output", str(output)),
        ]

    failures["http"] = run_step("HTTP benchmark", http_run(args.modes, args.concurrency, HTTP_JSON))
    if args.unsaturated_concurrency:
        failures["http_unsaturated"] = run_step(
            "HTTP benchmark, fewer clients",
            http_run("none,inline,async", args.unsaturated_concurrency, HTTP_UNSATURATED_JSON),
        )
    failures["backends"] = run_step(
        "Out-of-process backends",
        [
            sys.executable,
            "benchmarks/backends.py",
            *("--rounds", str(args.backends_rounds)),
            *("--sends", str(args.backends_sends)),
            *("--output", str(BACKENDS_JSON)),
        ],
    )
    failures["run"] = run_step(
        "Thread backend micro-benchmarks",
        [sys.executable, "benchmarks/run.py", "--quick", "--json", str(RUN_JSON)],
    )
    if args.with_instructions:
        failures["instructions"] = run_step(
            "Instruction counts",
            [sys.executable, "benchmarks/instructions.py", "--json", str(INSTRUCTIONS_JSON)],
        )
    return failures


def load(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


# -- the Markdown -------------------------------------------------------------------


def num(value: Any, spec: str = "{:.1f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return spec.format(value)


def stamp(date: str, python: str, django: str, cpus: Any, extra: str = "") -> str:
    """The line above each table: when and on what it was measured."""
    date = date.replace("T", " ")[:16]
    return f"*{date}; Python {python}, Django {django}, {cpus} CPUs{extra}.*"


def verdict(value: float | None, target: str | None) -> str:
    if target is None or value is None or math.isnan(value):
        return "-"
    op, limit = target.split()
    bound = float(limit.rstrip("x"))
    ok = value <= bound if op == "<=" else value >= bound
    return "PASS" if ok else "MISS"


def http_section(http: dict[str, Any]) -> list[str]:
    meta = http["meta"]
    summary = http["summary"]
    ratios = {label: r["median"] for label, r in http["ratios"].items()}
    modes = [m for m in MODES if m in summary]
    out = [
        "## HTTP: the order view with a 20 ms receiver",
        "",
        "`POST /orders/` saves an `Order`; its `post_save` receiver sleeps 20 ms (an e-mail), "
        "reads the order and writes a `Receipt`. gunicorn gthread 2 workers x 4 threads, "
        f"PostgreSQL {meta['postgresql'].split()[0]} with Django's default `CONN_MAX_AGE = 0`, "
        f"{meta['concurrency']} keep-alive clients in a closed loop, {meta['rounds']} rounds x "
        f"{meta['requests']:,} requests per mode; medians over rounds. "
        f"celery: `celery worker {meta.get('celery_worker_args', '')}`; tasks: "
        f"{meta.get('db_workers', '?')} `db_worker --interval 0.1`. "
        "*drained after* is the time from the last response until every order had its "
        "receipt.",
        "",
        stamp(
            meta["started"],
            meta["python"],
            meta["django"],
            meta["cpus"],
            f", eventx_signals {meta['eventx_signals']}"
            + (
                f" at {meta['eventx_signals_commit'][:10]}"
                + (
                    " (+ local changes)"
                    if meta["eventx_signals_uncommitted_changes"] == "yes"
                    else ""
                )
                if "eventx_signals_commit" in meta
                else ""
            ),
        ),
        "",
        "| mode | receiver run by | p50 ms | p99 ms | req/s | CPU ms/req | done at load end "
        "| drained after | missing |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for mode in modes:
        s = summary[mode]
        receipts = "-" if mode == "none" else f"{s['receipts_at_load_end']:,} / {s['orders']:,}"
        drained = "-" if mode == "none" else num(s.get("drain_seconds"), "{:.1f} s")
        missing = "-" if s["missing"] is None else str(s["missing"])
        out.append(
            f"| {mode} | {MODES[mode]} | {num(s['p50_ms'])} | {num(s['p99_ms'])} "
            f"| {num(s['throughput_rps'], '{:.0f}')} | {num(s['cpu_ms_per_request'])} "
            f"| {receipts} | {drained} | {missing} |"
        )
    out += ["", "![p50 and p99 latency per mode](latency.png)", ""]
    out += [
        "| ratio (median of the per-round ratios) | measured | target | result |",
        "|---|--:|--:|---|",
    ]
    for label, target in HTTP_RATIOS:
        if label in ratios:
            value = ratios[label]
            out.append(
                f"| {label} | {num(value, '{:.2f}x')} | {target or '-'} "
                f"| {verdict(value, target)} |"
            )
    for t in http["targets"]:
        if "x" not in t["limit"]:  # the counts: missing receipts, errors, log rows
            out.append(
                f"| {t['label']} | {num(t['measured'], '{:.0f}')} | {t['limit']} | {t['result']} |"
            )
    return out + cpu_beyond_paragraph(http)


def cpu_beyond_paragraph(http: dict[str, Any]) -> list[str]:
    """Where the extra CPU of inline and async goes, and the library's own
    share of it (see benchmarks/http/report.py)."""
    beyond = http.get("cpu_beyond_none_ms_per_request") or {}
    parts = [
        f"{mode} {num(b['all'], '{:+.1f}')} ms (gunicorn {num(b['gunicorn'], '{:+.1f}')}, "
        f"PostgreSQL {num(b['postgres'], '{:+.1f}')})"
        for mode, b in beyond.items()
        if mode in ("inline", "async")
    ]
    if not parts:
        return []
    text = "CPU per request beyond no receiver, medians over rounds: " + "; ".join(parts) + "."
    share = http.get("library_share_ms_per_request")
    if share is not None:
        text += (
            " The same receiver does the same work in both modes, so the gunicorn CPU of async "
            f"beyond inline, {num(share, '{:+.2f}')} ms per request, is what django-eventx "
            "itself adds in the web process."
        )
    return ["", text]


def unsaturated_section(http: dict[str, Any], saturated: dict[str, Any]) -> list[str]:
    """The same view with fewer clients: where latency is the requests' own
    work rather than queueing for the CPU."""
    meta, summary = http["meta"], http["summary"]
    ratios = {label: r["median"] for label, r in http["ratios"].items()}
    busy = {
        mode: saturated["summary"][mode]["cpu_ms_per_request"]
        * saturated["summary"][mode]["throughput_rps"]
        / 1000
        for mode in ("none", "inline", "async")
        if mode in saturated["summary"]
    }
    busy_text = ", ".join(f"{mode} {value:.1f}" for mode, value in busy.items())
    if busy and min(busy.values()) >= 0.85 * meta["cpus"]:
        why = (
            f"With {saturated['meta']['concurrency']} clients the machine's {meta['cpus']} "
            f"CPUs are saturated in every mode (CPUs busy: {busy_text}): a request's latency "
            "is then mostly its wait for a CPU, and moving the receiver to a thread of the "
            "same process moves its CPU time without removing it. "
        )
    else:
        why = (
            f"With {saturated['meta']['concurrency']} clients, CPUs busy of "
            f"{meta['cpus']}: {busy_text}. "
        )
    out = [
        f"### The same with {meta['concurrency']} clients",
        "",
        why + f"With {meta['concurrency']} clients, same view, same settings, "
        f"{meta['rounds']} rounds x {meta['requests']:,} requests per mode:",
        "",
        stamp(meta["started"], meta["python"], meta["django"], meta["cpus"]),
        "",
        "| mode | p50 ms | p99 ms | req/s | CPU ms/req | missing |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for mode in [m for m in MODES if m in summary]:
        s = summary[mode]
        missing = "-" if s["missing"] is None else str(s["missing"])
        out.append(
            f"| {mode} | {num(s['p50_ms'])} | {num(s['p99_ms'])} "
            f"| {num(s['throughput_rps'], '{:.0f}')} | {num(s['cpu_ms_per_request'])} | {missing} |"
        )
    out += ["", "| ratio | measured | target |", "|---|--:|--:|"]
    # The thread backend against the other two modes of this run.
    for label, target in HTTP_RATIOS:
        if label.startswith("async ") and label in ratios:
            out.append(f"| {label} | {num(ratios[label], '{:.2f}x')} | {target or '-'} |")
    out += [
        "",
        f"The targets apply to the {saturated['meta']['concurrency']}-client run above; "
        "these figures show how the ratios depend on the load.",
    ]
    return out


def backends_section(backends: dict[str, Any]) -> list[str]:
    wall = {name: c["wall_us_median"] for name, c in backends["contenders"].items()}
    rows = [
        ("Celery: ours / `apply_async`", "celery ours/raw", "celery_ours", "celery_raw"),
        ("Django Tasks: ours / `enqueue`", "tasks ours/raw", "tasks_ours", "tasks_raw"),
        ("Celery / thread backend", "celery/thread", "celery_ours", "thread"),
        ("Django Tasks / thread backend", "tasks/thread", "tasks_ours", "thread"),
    ]
    targets = {t["name"]: t for t in backends["targets"]}
    names = [
        "Celery: ours / raw",
        "Django Tasks: ours / raw",
        "Celery / thread backend",
        "Django Tasks / thread backend",
    ]
    out = [
        "### Request-path cost of one send (`benchmarks/backends.py`)",
        "",
        stamp(
            backends["date"],
            backends["python"],
            backends["django"],
            backends["cpus"],
            f"; {backends['rounds']} rounds x {backends['sends']} sends, wall-clock",
        ),
        "",
        "| ratio | µs per send | measured | target | result |",
        "|---|--:|--:|--:|---|",
    ]
    for (label, key, top, bottom), name in zip(rows, names):
        t = targets[name]
        out.append(
            f"| {label} | {wall[top]:,.1f} / {wall[bottom]:,.1f} "
            f"| {backends['ratios_wall'][key]:.2f}x | {t['target']} "
            f"| {'PASS' if t['met'] else 'MISS'} |"
        )
    return out


def run_section(run: dict[str, Any]) -> list[str]:
    out = [
        "### Thread backend (`benchmarks/run.py --quick`)",
        "",
        stamp(run["date"], run["python"], run["django"], run["cpus"], "; caller CPU time"),
        "",
        "| benchmark | measured | target | result |",
        "|---|--:|--:|---|",
    ]
    for t in run["targets"]:
        out.append(
            f"| {t['name']} | {t['display']} | {t['target']} | {'PASS' if t['met'] else 'MISS'} |"
        )
    return out


def instructions_section(data: dict[str, Any]) -> list[str]:
    out = [
        "### Instructions per send (`benchmarks/instructions.py`, callgrind)",
        "",
        stamp(data["date"], data["python"], data["django"], data["cpus"]),
        "",
        "| what is sent | Django | django-eventx | ratio | target | result |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for s in data["scenarios"]:
        out.append(
            f"| {s['label']} | {s['django_instructions']:,.0f} | {s['eventx_instructions']:,.0f} "
            f"| {s['ratio']:.2f}x | {s['target']} | {'PASS' if s['met'] else 'MISS'} |"
        )
    if data.get("otel_api"):
        out += [
            "",
            "django-eventx's send with opentelemetry-api installed and no tracer provider set, "
            "against the same send with OpenTelemetry absent:",
            "",
            "| django-eventx send | API absent | API installed | ratio | target | result |",
            "|---|--:|--:|--:|--:|---|",
        ]
        for s in data["otel_api"]:
            out.append(
                f"| {s['label']} | {s['absent_instructions']:,.0f} "
                f"| {s['installed_instructions']:,.0f} | {s['ratio']:.2f}x | {s['target']} "
                f"| {'PASS' if s['met'] else 'MISS'} |"
            )
    return out


def markdown(
    http: dict[str, Any] | None,
    http_unsaturated: dict[str, Any] | None,
    backends: dict[str, Any] | None,
    run: dict[str, Any] | None,
    instructions: dict[str, Any] | None,
    failures: dict[str, str | None],
    with_instructions: bool,
    seconds: float | None,
) -> str:
    out = [
        "# django-eventx benchmark report",
        "",
        "Generated by `python benchmarks/report.py`"
        + (f" in {seconds / 60:.1f} minutes" if seconds else "")
        + ". Contenders of a table run side by side in the same run on the same "
        "machine; compare the ratios, not the milliseconds, across runs and machines "
        "(see `benchmarks/README.rst`).",
        "",
    ]
    if http is not None and not failures.get("http"):
        out += http_section(http)
        if http_unsaturated is not None and not failures.get("http_unsaturated"):
            out += [""] + unsaturated_section(http_unsaturated, http)
    else:
        out += ["## HTTP", "", f"Not measured: {failures.get('http') or 'no results'}."]
    out += ["", "## Micro-benchmarks", ""]
    for name, data, section in (
        ("backends", backends, backends_section),
        ("run", run, run_section),
    ):
        if data is not None and not failures.get(name):
            out += section(data)
        else:
            out += [f"`{name}`: not measured ({failures.get(name) or 'no results'})."]
        out.append("")
    if with_instructions:
        if instructions is not None and not failures.get("instructions"):
            out += instructions_section(instructions)
        else:
            why = failures.get("instructions") or "no results"
            out += [f"Instruction counts: not measured ({why})."]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- the chart --------------------------------------------------------------------------


def chart(http: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = http["meta"]
    summary = http["summary"]
    modes = [m for m in MODES if m in summary]
    p50 = [summary[m]["p50_ms"] for m in modes]
    p99 = [summary[m]["p99_ms"] for m in modes]
    rps = [summary[m]["throughput_rps"] for m in modes]

    dpi = 110
    fig, ax = plt.subplots(figsize=(900 / dpi, 540 / dpi), dpi=dpi)
    width = 0.38
    xs = list(range(len(modes)))
    bars50 = ax.bar([x - width / 2 for x in xs], p50, width, label="p50", color="#3b75af")
    bars99 = ax.bar([x + width / 2 for x in xs], p99, width, label="p99", color="#a6c8e6")
    top = max([v for v in p99 if not math.isnan(v)] or [1.0])
    for bars in (bars50, bars99):
        for bar in bars:
            height = bar.get_height()
            ax.annotate(
                f"{height:.0f}",
                (bar.get_x() + bar.get_width() / 2, height),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    for x, (high, rate) in enumerate(zip(p99, rps)):
        ax.annotate(
            f"{rate:.0f} req/s",
            (x, max(high, 0) + top * 0.07),
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            color="#333333",
        )
    ax.set_xticks(xs, [CHART_LABELS[m] for m in modes], fontsize=9)
    ax.set_xlim(-0.6, len(modes) - 0.4)
    ax.set_ylabel("request latency (ms)")
    ax.set_ylim(0, top * 1.22)
    ax.set_title(
        "POST /orders/ with a 20 ms post_save receiver: latency and throughput per mode",
        fontsize=11,
    )
    fig.text(
        0.5,
        0.015,
        f"gunicorn gthread 2 workers x 4 threads, PostgreSQL with CONN_MAX_AGE=0, "
        f"{meta['concurrency']} clients, {meta['rounds']} rounds x {meta['requests']} "
        "requests per mode (medians)\n"
        f"Python {meta['python']}, Django {meta['django']}, {meta['cpus']} CPUs, "
        f"{meta['started'][:16]}; benchmarks/report.py",
        ha="center",
        va="bottom",
        fontsize=8,
        color="#555555",
    )
    ax.legend(loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.subplots_adjust(left=0.08, right=0.99, top=0.92, bottom=0.2)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def main() -> int:
    args = parse_args()
    started = time.monotonic()
    try:
        import matplotlib  # noqa: F401  (fail before minutes of benchmarks, not after)
    except ImportError:
        print("matplotlib is needed: pip install matplotlib", file=sys.stderr)
        return 2
    failures: dict[str, str | None] = {}
    if not args.reuse:
        try:
            failures = run_all(args)
        except KeyboardInterrupt:
            print("\ninterrupted: no report written", file=sys.stderr)
            return 130
    http, backends, run = load(HTTP_JSON), load(BACKENDS_JSON), load(RUN_JSON)
    http_unsaturated = load(HTTP_UNSATURATED_JSON) if args.unsaturated_concurrency else None
    instructions = load(INSTRUCTIONS_JSON) if args.with_instructions else None
    if http is None or failures.get("http"):
        print(f"no HTTP results ({failures.get('http') or HTTP_JSON}): no report", file=sys.stderr)
        return 1
    seconds = None if args.reuse else time.monotonic() - started
    text = markdown(
        http,
        http_unsaturated,
        backends,
        run,
        instructions,
        failures,
        args.with_instructions,
        seconds,
    )
    args.output_dir.mkdir(parents=True, exist_ok=True)
    report = args.output_dir / "report.md"
    report.write_text(text)
    png = args.output_dir / "latency.png"
    chart(http, png)
    print("\n" + text)
    elapsed = time.monotonic() - started
    print(f"written: {report} and {png}; {elapsed:.0f} s in all")
    # A MISS is a finding (status 0); a benchmark that could not run is not.
    return 1 if any(failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
