"""Measurement helpers of the benchmark suite: interleaved rounds, medians,
paired ratios, memory readings and plain-text tables. Standard library only."""

from __future__ import annotations

import gc
import random
import statistics
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MB = 1024 * 1024


def interleave(
    contenders: dict[str, Callable[[], Any]], rounds: int, warmup: int = 1
) -> dict[str, list[Any]]:
    """
    Call every contender once per round and collect what each call returns
    (one measurement). Each round calls them in a new random order, so that
    none is always first, or always right after the same neighbour (a
    rotating start keeps every contender behind the same one: Django Tasks
    sends, always measured right after the Celery ones, read their signed /
    unsigned ratio 1.06-1.13x where a random order reads 0.99-1.04x). The
    first ``warmup`` rounds are run and thrown away.
    """
    names = list(contenders)
    samples: dict[str, list[Any]] = {name: [] for name in names}
    order = random.Random(0)  # seeded: every run measures in the same orders
    for index in range(warmup + rounds):
        for name in order.sample(names, len(names)):
            gc.collect()  # start every measurement from the same GC state
            value = contenders[name]()
            if index >= warmup:
                samples[name].append(value)
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median over rounds of numerator[i] / denominator[i]: each ratio
    compares measurements taken seconds apart, so slow drifts of a shared
    machine cancel out."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def spread(values: Sequence[float]) -> str:
    """Relative half-width of the interquartile range, e.g. '±3%'."""
    if len(values) < 4:
        return "-"
    q1, _, q3 = statistics.quantiles(values, n=4)
    middle = statistics.median(values)
    return f"±{(q3 - q1) / 2 / middle * 100:.0f}%" if middle else "-"


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/status (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Format a left-aligned first column and right-aligned other columns."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:]))
        return "  ".join([first, *rest]).rstrip()

    rule = "-" * len(line(cells[0]))
    return "\n".join([title, rule, line(cells[0]), rule, *map(line, cells[1:]), rule])


def drain_executor(executor: ThreadPoolExecutor, workers: int) -> None:
    """
    Wait until every task submitted so far has finished, without having kept
    the futures: one task per worker meets the caller at a barrier. The queue
    is FIFO and a worker runs one task at a time, so once every worker has
    reached the barrier, everything queued before has finished.

    Called on a new executor, it starts all of its threads (an executor only
    adds a thread when none is idle, so a flood of no-op tasks may otherwise
    run on fewer threads than max_workers).
    """
    barrier = threading.Barrier(workers + 1)
    for _ in range(workers):
        executor.submit(barrier.wait, 60)
    barrier.wait(60)
