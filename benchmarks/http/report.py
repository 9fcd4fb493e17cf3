"""
From the runs of all rounds to what is printed and saved: the per-mode table
(medians over rounds), the ratio table (per round, and their median), the
targets, and the JSON document.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import RunResult
from stats import median, ratio

#: Every mode, in the order of the tables. DEFAULT_MODES run unless --modes
#: says otherwise.
MODES = ("none", "inline", "async", "async+log", "async+trace", "celery", "tasks")
DEFAULT_MODES = ("none", "inline", "async")
#: The run log may cost the request at most 10 % over plain async: p50 at
#: most 1.10x, throughput at least 0.90x.
EVENT_LOG_TARGET = 1.10
EVENT_LOG_RPS_TARGET = 0.90
#: Tracing with the OpenTelemetry SDK may cost the request at most 10 % over
#: plain async (p50).
TRACE_TARGET = 1.10
#: Process trees whose CPU is shown per request.
CPU_SPLIT = ("gunicorn", "workers", "postgres", "redis", "other")


@dataclass(frozen=True)
class Ratio:
    label: str
    numerator: str  # mode
    denominator: str  # mode
    metric: str  # RunResult attribute
    per_round: list[float]

    @property
    def value(self) -> float:
        """Median of the per-round ratios: each compares runs minutes apart
        at most, so machine drift between rounds cancels out."""
        return median(self.per_round)


@dataclass(frozen=True)
class Target:
    label: str
    measured: float
    limit: str
    passed: bool
    fmt: str

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "MISS"


def by_mode(runs: Sequence[RunResult], mode: str) -> list[RunResult]:
    return [r for r in runs if r.mode == mode]


RATIO_SPECS = [
    # (label, numerator mode, denominator mode, RunResult attribute)
    ("async p50 / none p50", "async", "none", "p50_ms"),
    ("async p50 / inline p50", "async", "inline", "p50_ms"),
    ("async p99 / none p99", "async", "none", "p99_ms"),
    ("async p99 / inline p99", "async", "inline", "p99_ms"),
    ("inline p50 / none p50", "inline", "none", "p50_ms"),
    ("async req/s / none req/s", "async", "none", "throughput_rps"),
    ("async req/s / inline req/s", "async", "inline", "throughput_rps"),
    ("async+log p50 / async p50", "async+log", "async", "p50_ms"),
    ("async+log p99 / async p99", "async+log", "async", "p99_ms"),
    ("async+log req/s / async req/s", "async+log", "async", "throughput_rps"),
    ("async+trace p50 / async p50", "async+trace", "async", "p50_ms"),
    ("async+trace p99 / async p99", "async+trace", "async", "p99_ms"),
    ("async+trace req/s / async req/s", "async+trace", "async", "throughput_rps"),
    ("celery p50 / none p50", "celery", "none", "p50_ms"),
    ("celery p50 / async p50", "celery", "async", "p50_ms"),
    ("celery req/s / async req/s", "celery", "async", "throughput_rps"),
    ("tasks p50 / none p50", "tasks", "none", "p50_ms"),
    ("tasks p50 / async p50", "tasks", "async", "p50_ms"),
    ("tasks req/s / async req/s", "tasks", "async", "throughput_rps"),
]


def ratios(runs: Sequence[RunResult], rounds: int) -> list[Ratio]:
    """The ratios whose two modes were both run."""
    ran = {r.mode for r in runs}
    found: list[Ratio] = []
    for label, num, den, metric in RATIO_SPECS:
        if num not in ran or den not in ran:
            continue
        per_round = []
        for round_index in range(1, rounds + 1):
            top = [getattr(r, metric) for r in runs if r.mode == num and r.round == round_index]
            bottom = [getattr(r, metric) for r in runs if r.mode == den and r.round == round_index]
            per_round.append(ratio(top[0], bottom[0]) if top and bottom else math.nan)
        found.append(Ratio(label, num, den, metric, per_round))
    return found


def targets(runs: Sequence[RunResult], found: Sequence[Ratio]) -> list[Target]:
    value = {r.label: r.value for r in found}
    checks: list[Target] = []
    if "async p50 / none p50" in value:
        vs_none = value["async p50 / none p50"]
        checks.append(
            Target("async p50 <= 1.3 x none p50", vs_none, "<= 1.30x", vs_none <= 1.3, "{:.2f}x")
        )
    if "async p50 / inline p50" in value:
        vs_inline = value["async p50 / inline p50"]
        checks.append(
            Target(
                "async p50 <= 0.75 x inline p50",
                vs_inline,
                "<= 0.75x",
                vs_inline <= 0.75,
                "{:.2f}x",
            )
        )
    if "async+log p50 / async p50" in value:
        log_p50 = value["async+log p50 / async p50"]
        log_rps = value["async+log req/s / async req/s"]
        checks += [
            Target(
                "run log: async+log p50 <= 1.10 x async p50",
                log_p50,
                f"<= {EVENT_LOG_TARGET:.2f}x",
                log_p50 <= EVENT_LOG_TARGET,
                "{:.2f}x",
            ),
            Target(
                "run log: async+log req/s >= 0.90 x async req/s",
                log_rps,
                f">= {EVENT_LOG_RPS_TARGET:.2f}x",
                log_rps >= EVENT_LOG_RPS_TARGET,
                "{:.2f}x",
            ),
        ]
        logged = by_mode(runs, "async+log")
        unlogged = sum(r.orders - (r.log_rows or 0) for r in logged)
        checks.append(Target("run log: jobs without a row", unlogged, "0", unlogged == 0, "{:.0f}"))
    if "async+trace p50 / async p50" in value:
        trace_p50 = value["async+trace p50 / async p50"]
        checks.append(
            Target(
                "tracing: async+trace p50 <= 1.10 x async p50",
                trace_p50,
                f"<= {TRACE_TARGET:.2f}x",
                trace_p50 <= TRACE_TARGET,
                "{:.2f}x",
            )
        )
    traced = [r for r in by_mode(runs, "async+trace") if r.spans is not None]
    if traced:
        unspanned = sum(r.orders - r.spans["consumer"] for r in traced if r.spans)
        outside = sum(r.spans["consumer_outside_request_trace"] for r in traced if r.spans)
        checks += [
            Target("tracing: runs without a span", unspanned, "0", unspanned == 0, "{:.0f}"),
            Target(
                "tracing: CONSUMER spans outside a request's trace",
                outside,
                "0",
                outside == 0,
                "{:.0f}",
            ),
        ]
    with_receipts = sorted({r.mode for r in runs if r.mode != "none"}, key=MODES.index)
    if with_receipts:
        missing = sum(r.missing or 0 for r in runs)
        checks.append(
            Target(
                f"missing receipts ({' + '.join(with_receipts)})",
                missing,
                "0",
                missing == 0,
                "{:.0f}",
            )
        )
    failures = sum(r.failures for r in runs)
    checks.append(Target("non-2xx responses (all modes)", failures, "0", failures == 0, "{:.0f}"))
    return checks


def _fmt(value: float, spec: str = "{:.1f}") -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else spec.format(value)
    )


def _med(runs: Sequence[RunResult], get: Callable[[RunResult], float]) -> float:
    return median([get(r) for r in runs])


def _cpu(run: RunResult, part: str) -> float:
    """CPU ms per request of the whole machine ("all") or of one process tree."""
    if part == "all":
        return run.cpu_ms_per_request
    return run.cpu_split_ms_per_request.get(part, math.nan)


def cpu_beyond(runs: Sequence[RunResult], mode: str, base: str, part: str) -> float:
    """Median over rounds of how much more CPU per request ``mode`` cost than
    ``base`` in the same round: ``part`` is "all" or a process tree."""
    differences = []
    for run in by_mode(runs, mode):
        other = [r for r in by_mode(runs, base) if r.round == run.round]
        if other:
            differences.append(_cpu(run, part) - _cpu(other[0], part))
    return median(differences) if differences else math.nan


def cpus_busy(runs: Sequence[RunResult], mode: str) -> float:
    """Median CPUs kept busy during the load: requests per second times CPU
    seconds per request."""
    return _med(by_mode(runs, mode), lambda r: r.throughput_rps * r.cpu_ms_per_request / 1000)


def mode_summary(runs: Sequence[RunResult], mode: str) -> dict[str, Any]:
    mine = by_mode(runs, mode)
    jobs = sum(r.orders for r in mine) if mode != "none" else 0
    extra = sum(r.extra_sessions for r in mine)
    return {
        "runs": len(mine),
        "p50_ms": _med(mine, lambda r: r.p50_ms),
        "p99_ms": _med(mine, lambda r: r.p99_ms),
        "throughput_rps": _med(mine, lambda r: r.throughput_rps),
        "cpu_ms_per_request": _med(mine, lambda r: r.cpu_ms_per_request),
        "failures": sum(r.failures for r in mine),
        "orders": sum(r.orders for r in mine),
        "receipts": sum(r.receipts for r in mine),
        "receipts_at_load_end": sum(r.receipts_at_load_end for r in mine),
        "missing": None if mode == "none" else sum(r.missing or 0 for r in mine),
        "orphans": sum(r.orphans for r in mine),
        "duplicates": sum(r.duplicates for r in mine),
        "pg_backends_max": max((r.pg_backends["max"] for r in mine), default=math.nan),
        "pg_backends_median": _med(mine, lambda r: r.pg_backends["median"]),
        "sessions": sum(r.sessions for r in mine),
        "requests_sent": sum(r.requests_sent for r in mine),
        "extra_sessions": extra,
        "jobs": jobs,
        "extra_sessions_per_job": ratio(extra, jobs) if jobs else math.nan,
        "stop_seconds": _med(mine, lambda r: r.stop_seconds),
        "unexpected_log_lines": sum(len(r.unexpected_log_lines) for r in mine),
        # Seconds from the last response until every receipt was written
        # (median; NaN if some run did not get there within the timeout).
        "drain_seconds": (
            math.nan
            if mode == "none" or any(r.drain_seconds is None for r in mine)
            else _med(mine, lambda r: r.drain_seconds or 0.0)
        ),
        "log_rows": None if mode != "async+log" else sum(r.log_rows or 0 for r in mine),
        "spans": span_totals(mine) if mode == "async+trace" else None,
        "cpu_ms_per_request_drained": (
            math.nan
            if mode == "none" or any(r.cpu_ms_per_request_drained is None for r in mine)
            else _med(mine, lambda r: r.cpu_ms_per_request_drained or 0.0)
        ),
        "cpu_split_ms_per_request": {
            key: _med(mine, lambda r, key=key: r.cpu_split_ms_per_request.get(key, math.nan))
            for key in CPU_SPLIT
        },
        "worker_processes": max((r.worker_processes for r in mine), default=0),
    }


def span_totals(runs: Sequence[RunResult]) -> dict[str, int]:
    """The span counts of ``runs`` summed, with the jobs (orders) and the
    runs without a CONSUMER span."""
    totals: dict[str, int] = {}
    for run in runs:
        for key, count in (run.spans or {}).items():
            totals[key] = totals.get(key, 0) + count
    jobs = sum(r.orders for r in runs)
    totals["jobs"] = jobs
    totals["runs_without_span"] = jobs - totals.get("consumer", 0)
    return totals


def markdown(
    runs: Sequence[RunResult],
    found: Sequence[Ratio],
    checks: Sequence[Target],
    rounds: int,
    header: str,
) -> str:
    lines = [header, ""]
    lines += [
        "| mode | p50 ms | p99 ms | req/s | CPU ms/req | non-2xx | orders | receipts | at load end "
        "| missing | orphan / dup | PG conns max (median) | sessions | sessions - requests "
        "| per job | stop s | drain s | log rows |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for mode in MODES:
        s = mode_summary(runs, mode)
        if not s["runs"]:
            continue
        lines.append(
            f"| {mode} | {_fmt(s['p50_ms'])} | {_fmt(s['p99_ms'])} "
            f"| {_fmt(s['throughput_rps'], '{:.0f}')} | {_fmt(s['cpu_ms_per_request'])} "
            f"| {s['failures']} | {s['orders']} "
            f"| {s['receipts']} | {s['receipts_at_load_end']} "
            f"| {'-' if s['missing'] is None else s['missing']} "
            f"| {s['orphans']} / {s['duplicates']} "
            f"| {_fmt(s['pg_backends_max'], '{:.0f}')} ({_fmt(s['pg_backends_median'], '{:g}')}) "
            f"| {s['sessions']} | {s['extra_sessions']} "
            f"| {_fmt(s['extra_sessions_per_job'], '{:.2f}')} "
            f"| {_fmt(s['stop_seconds'], '{:.1f}')} "
            f"| {_fmt(s['drain_seconds'], '{:.1f}') if mode != 'none' else '-'} "
            f"| {'-' if s['log_rows'] is None else s['log_rows']} |"
        )
    lines += [
        "",
        "Latencies, req/s and CPU: medians over rounds; counts: sums over rounds. "
        '"CPU ms/req": busy CPU of the whole machine during the load, per request '
        "(warm-up included). "
        '"sessions": PostgreSQL sessions opened during the runs (pg_stat_database); '
        '"sessions - requests": beyond one per HTTP request (CONN_MAX_AGE=0), i.e. opened '
        'by background jobs (and, in mode "tasks", by the idle db_worker polls); '
        '"per job": that divided by the jobs (orders). "drain s": from the last response '
        'until every order had its receipt (median). "log rows": run log rows '
        "(async+log).",
        "",
        "| mode | CPU ms/req: gunicorn | workers | PostgreSQL | Redis | other | all, load "
        "| all, until drained |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for mode in MODES:
        s = mode_summary(runs, mode)
        if not s["runs"]:
            continue
        split = s["cpu_split_ms_per_request"]
        cells = " | ".join(
            "-"
            if (key == "workers" and not s["worker_processes"])
            or (key == "redis" and mode != "celery")
            else _fmt(split[key])
            for key in CPU_SPLIT
        )
        drained = "-" if mode == "none" else _fmt(s["cpu_ms_per_request_drained"])
        lines.append(f"| {mode} | {cells} | {_fmt(s['cpu_ms_per_request'])} | {drained} |")
    lines += [
        "",
        "CPU per request by process tree during the load (medians): gunicorn (master and "
        "workers), the worker processes (celery, tasks), PostgreSQL (backends included), Redis "
        '(Celery\'s broker), "other" (the load client, anything else on the machine); "until drained": the machine\'s busy '
        "CPU from the start of the load until the last receipt was written, per request.",
        "",
    ]
    lines += cpu_beyond_lines(runs)
    lines += span_lines(runs)
    lines += [
        "| ratio | " + " | ".join(f"round {i}" for i in range(1, rounds + 1)) + " | median |",
        "|---|" + "--:|" * (rounds + 1),
    ]
    for r in found:
        cells = " | ".join(_fmt(v, "{:.2f}") for v in r.per_round)
        lines.append(f"| {r.label} | {cells} | **{_fmt(r.value, '{:.2f}')}** |")
    lines += ["", "| target | measured | limit | result |", "|---|--:|--:|---|"]
    for t in checks:
        lines.append(f"| {t.label} | {_fmt(t.measured, t.fmt)} | {t.limit} | {t.verdict} |")
    return "\n".join(lines) + "\n"


def span_lines(runs: Sequence[RunResult]) -> list[str]:
    """The spans of mode async+trace, summed over rounds."""
    traced = by_mode(runs, "async+trace")
    if not traced:
        return []
    t = span_totals(traced)
    return [
        "| async+trace | requests sent | SERVER spans (POST /orders/) | PRODUCER spans "
        "| CONSUMER spans | jobs | runs without a span | CONSUMER spans outside a request's trace |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
        f"| spans | {sum(r.requests_sent for r in traced)} | {t.get('server', 0)} "
        f"({t.get('order_requests', 0)}) | {t.get('producer', 0)} | {t.get('consumer', 0)} "
        f"| {t['jobs']} | {t['runs_without_span']} "
        f"| {t.get('consumer_outside_request_trace', 0)} |",
        "",
        "Spans the gunicorn workers exported (sums over rounds): SERVER spans include the "
        "readiness and placement probes; a job is an order, whose receiver run should make one "
        "CONSUMER span (`process post_save`) in the trace of the request that saved it.",
        "",
    ]


#: The parts of a mode's CPU per request shown beyond no receiver.
CPU_BEYOND_PARTS = ("all", "gunicorn", "workers", "postgres", "other")


def cpu_beyond_none(runs: Sequence[RunResult]) -> dict[str, dict[str, float | None]]:
    """For each mode run with "none": its CPU per request beyond no receiver,
    in all and per process tree (None: a tree the mode does not have)."""
    ran = {r.mode for r in runs}
    if "none" not in ran:
        return {}
    found: dict[str, dict[str, float | None]] = {}
    for mode in MODES[1:]:
        if mode not in ran:
            continue
        has_workers = any(r.worker_processes for r in by_mode(runs, mode))
        found[mode] = {
            part: None
            if part == "workers" and not has_workers
            else cpu_beyond(runs, mode, "none", part)
            for part in CPU_BEYOND_PARTS
        }
    return found


def library_share(runs: Sequence[RunResult]) -> float:
    """The gunicorn CPU per request of async beyond inline (median over
    rounds): the same receiver does the same work in both, so this is what
    django-eventx adds in the web process. NaN unless both ran."""
    ran = {r.mode for r in runs}
    if not {"async", "inline"} <= ran:
        return math.nan
    return cpu_beyond(runs, "async", "inline", "gunicorn")


def cpu_beyond_lines(runs: Sequence[RunResult]) -> list[str]:
    """Where each mode's extra CPU goes, compared with no receiver in the
    same round; and the share the library itself adds in the web process."""
    ran = {r.mode for r in runs}
    if "none" not in ran:
        return []
    lines = [
        "| mode | CPUs busy | CPU ms/req beyond none: all | gunicorn | workers | PostgreSQL "
        "| other |",
        "|---|--:|--:|--:|--:|--:|--:|",
        f"| none | {_fmt(cpus_busy(runs, 'none'), '{:.2f}')} | - | - | - | - | - |",
    ]
    beyond = cpu_beyond_none(runs)
    for mode, parts in beyond.items():
        cells = " | ".join(
            "-" if value is None else _fmt(value, "{:+.2f}") for value in parts.values()
        )
        lines.append(f"| {mode} | {_fmt(cpus_busy(runs, mode), '{:.2f}')} | {cells} |")
    lines += [
        "",
        "Medians over rounds of the difference from no receiver in the same round. With every "
        "core busy, latency in a closed loop follows CPU per request.",
    ]
    share = library_share(runs)
    if not math.isnan(share):
        lines[-1] += (
            " The gunicorn CPU of async beyond inline, "
            f"{_fmt(share, '{:+.2f}')} ms per request "
            "(median over rounds), is what django-eventx adds in the web process (hand-off, "
            "snapshot, worker loop): the same receiver does the same work in both modes."
        )
    return [*lines, ""]


def write_json(
    path: Path,
    meta: dict[str, Any],
    runs: Sequence[RunResult],
    found: Sequence[Ratio],
    checks: Sequence[Target],
    text: str,
) -> None:
    document = {
        "meta": meta,
        "summary": {mode: mode_summary(runs, mode) for mode in MODES if by_mode(runs, mode)},
        "ratios": {r.label: {"median": r.value, "per_round": r.per_round} for r in found},
        "cpu_beyond_none_ms_per_request": cpu_beyond_none(runs),
        "library_share_ms_per_request": library_share(runs),
        "targets": [
            {"label": t.label, "measured": t.measured, "limit": t.limit, "result": t.verdict}
            for t in checks
        ],
        "markdown": text,
        "runs": [r.as_dict() for r in runs],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # NaN is not JSON: write null instead.
    path.write_text(json.dumps(_no_nan(document), indent=1) + "\n")


def _no_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value
