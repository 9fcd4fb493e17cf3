"""The four benchmarks of the suite. Each returns (table text, result)."""

from __future__ import annotations

import gc
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor, wait
from itertools import repeat

from django.dispatch import Signal
from django.test.utils import override_settings
from harness import (
    MB,
    drain_executor,
    interleave,
    median,
    paired_ratio,
    rss_bytes,
    spread,
    table,
)

from eventx_signals import AsyncSignal, stats
from eventx_signals.backends import backends
from eventx_signals.testing import wait_for_runs


def noop_receiver(sender, **kwargs):
    pass


def noop_task():
    pass


# -- 1. request-path cost ------------------------------------------------


def bench_request_path(quick: bool) -> tuple[str, dict[str, float]]:
    # Below the default queue_size (10,000): the queue, drained between
    # batches, can never fill up, so no send ever waits for room.
    n = 2_000 if quick else 8_000
    rounds = 5 if quick else 21
    plain, deferred = Signal(), AsyncSignal()
    plain.connect(noop_receiver)
    deferred.connect(noop_receiver)
    executor = ThreadPoolExecutor(max_workers=4)
    drain_executor(executor, 4)  # start its four threads

    # The same loop for all three; like a request, it drops what the call
    # returns. Work left queued is drained after the timed region.
    def timed(call, arg) -> float:
        start = time.thread_time_ns()
        for _ in repeat(arg, n):
            call(arg)
        return (time.thread_time_ns() - start) / n

    def django_send() -> float:
        return timed(plain.send, None)

    def eventx_send() -> float:
        elapsed = timed(deferred.send, None)
        wait_for_runs(timeout=60)
        return elapsed

    def executor_submit() -> float:
        elapsed = timed(executor.submit, noop_task)
        drain_executor(executor, 4)
        return elapsed

    samples = interleave(
        {"django": django_send, "eventx": eventx_send, "executor": executor_submit}, rounds
    )
    executor.shutdown()
    ratios = {
        "eventx/django": paired_ratio(samples["eventx"], samples["django"]),
        "executor/django": paired_ratio(samples["executor"], samples["django"]),
        "eventx/executor": paired_ratio(samples["eventx"], samples["executor"]),
    }
    labels = {
        "django": "Signal.send (Django)",
        "eventx": "AsyncSignal.send",
        "executor": "ThreadPoolExecutor(4).submit",
    }
    rows = [
        (
            labels[name],
            f"{median(values):,.0f}",
            spread(values),
            f"{paired_ratio(values, samples['django']):.2f}x",
        )
        for name, values in samples.items()
    ]
    text = table(
        f"1. Request-path cost of one send, one no-op receiver "
        f"(caller's CPU time, {rounds} rounds x {n:,} calls)",
        ["contender", "ns/call (median)", "spread", "vs Django"],
        rows,
    )
    text += f"\n   AsyncSignal.send / ThreadPoolExecutor.submit: {ratios['eventx/executor']:.2f}x"
    return text, ratios


# -- 2. no-receiver fast path --------------------------------------------


def bench_fast_path(quick: bool) -> tuple[str, float]:
    n = 50_000 if quick else 200_000
    rounds = 5 if quick else 21
    plain, deferred = Signal(), AsyncSignal()

    def timed(send) -> float:
        start = time.thread_time_ns()
        for _ in repeat(None, n):
            send(None)
        return (time.thread_time_ns() - start) / n

    def empty_loop() -> float:
        start = time.thread_time_ns()
        for _ in repeat(None, n):
            pass
        return (time.thread_time_ns() - start) / n

    samples = interleave(
        {
            "django": lambda: timed(plain.send),
            "eventx": lambda: timed(deferred.send),
            "loop": empty_loop,
        },
        rounds,
    )
    # The loop's own cost, measured in the same rounds, is taken off both.
    net = {
        name: [value - loop for value, loop in zip(samples[name], samples["loop"])]
        for name in ("django", "eventx")
    }
    ratio = paired_ratio(net["eventx"], net["django"])
    rows = [
        (
            "Signal().send(None) (Django)",
            f"{median(samples['django']):.1f}",
            f"{median(net['django']):.1f}",
            spread(net["django"]),
            "1.00x",
        ),
        (
            "AsyncSignal().send(None)",
            f"{median(samples['eventx']):.1f}",
            f"{median(net['eventx']):.1f}",
            spread(net["eventx"]),
            f"{ratio:.2f}x",
        ),
        ("empty loop", f"{median(samples['loop']):.1f}", "", "", ""),
    ]
    text = table(
        f"2. No-receiver fast path (caller's CPU time, {rounds} rounds x {n:,} calls)",
        ["contender", "ns/call", "net of loop", "spread", "vs Django"],
        rows,
    )
    return text, ratio


# -- 3. end-to-end throughput --------------------------------------------


def bench_throughput(quick: bool) -> tuple[str, dict[int, float]]:
    n = 10_000 if quick else 50_000
    rounds = 3 if quick else 7
    deferred = AsyncSignal()
    deferred.connect(noop_receiver)
    rows, ratios = [], {}
    for workers in (1, 2, 4):
        # queue_size = n: like the executor's unbounded queue, the sender
        # never waits for room, so both measure dispatching, not backpressure.
        options = {"workers": workers, "queue_size": n}
        thread_backend = {
            "BACKEND": "eventx_signals.backends.thread.ThreadBackend",
            "OPTIONS": options,
        }
        with override_settings(EVENTX_BACKENDS={"default": thread_backend}):
            executor = ThreadPoolExecutor(max_workers=workers)
            drain_executor(executor, workers)  # start all its threads

            # Each returns (dispatches per second of wall clock, CPU time of
            # the whole process, all threads, per dispatch in microseconds).
            def eventx_all() -> tuple[float, float]:
                send = deferred.send
                cpu, start = time.process_time(), time.perf_counter()
                for _ in repeat(None, n):
                    send(None)
                wait_for_runs(timeout=120)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                return n / wall, cpu / n * 1e6

            def executor_all(executor: ThreadPoolExecutor = executor) -> tuple[float, float]:
                submit = executor.submit
                cpu, start = time.process_time(), time.perf_counter()
                futures = [submit(noop_task) for _ in repeat(None, n)]
                wait(futures)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                return n / wall, cpu / n * 1e6

            samples = interleave({"eventx": eventx_all, "executor": executor_all}, rounds)
            executor.shutdown()
        rate = {name: [r for r, _ in values] for name, values in samples.items()}
        cpu = {name: [c for _, c in values] for name, values in samples.items()}
        ratios[workers] = paired_ratio(rate["eventx"], rate["executor"])
        rows.append(
            (
                str(workers),
                f"{median(rate['eventx']):,.0f}",
                spread(rate["eventx"]),
                f"{median(cpu['eventx']):.1f}",
                f"{median(rate['executor']):,.0f}",
                spread(rate["executor"]),
                f"{median(cpu['executor']):.1f}",
                f"{ratios[workers]:.2f}x",
            )
        )
    text = table(
        f"3. End-to-end throughput: send {n:,} no-op dispatches and wait for all "
        f"(wall clock, {rounds} rounds; CPU = all threads, per dispatch)",
        [
            "workers",
            "AsyncSignal/s",
            "spread",
            "CPU us",
            "executor/s",
            "spread",
            "CPU us",
            "AsyncSignal/executor",
        ],
        rows,
    )
    return text, ratios


# -- 4. memory of a full queue -------------------------------------------


def bench_memory(quick: bool) -> tuple[str, dict[str, float]]:
    from django.contrib.auth.models import User  # needs the app registry

    backend = backends["default"]
    workers = backend.options["workers"]
    pending = backend.options["queue_size"]  # 10,000 by default: a full queue
    blocker, deferred = AsyncSignal(), AsyncSignal()
    deferred.connect(noop_receiver)

    def fill_queue(measure) -> tuple[float, int]:
        """Park every worker on an Event, then queue ``pending`` dispatches
        and return (bytes above the baseline, runs pending)."""
        gate, parked = threading.Event(), threading.Semaphore(0)

        def hold_worker(sender, **kwargs):
            parked.release()
            gate.wait()

        blocker.connect(hold_worker)
        try:
            for _ in range(workers):
                blocker.send(None)
            for _ in range(workers):
                if not parked.acquire(timeout=30):
                    raise RuntimeError("the worker threads did not start")
            gc.collect()
            before = measure()
            for index in range(pending):
                # What post_save sends for a new, unsaved-until-now user.
                user = User(username=f"user{index}", email=f"user{index}@example.com")
                deferred.send(
                    User,
                    instance=user,
                    created=True,
                    raw=False,
                    using="default",
                    update_fields=None,
                )
            gc.collect()
            grown = measure() - before
            queued = stats()["pending"]
        finally:
            gate.set()
            blocker.disconnect(hold_worker)
        wait_for_runs(timeout=60)
        return grown, queued

    rss_growth, queued = fill_queue(rss_bytes)  # without tracemalloc's own overhead
    tracemalloc.start()
    try:
        traced_growth, _ = fill_queue(lambda: tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    rows = [
        (
            "traced allocations (tracemalloc)",
            f"{traced_growth / MB:.2f}",
            f"{traced_growth / pending:,.0f}",
        ),
        ("resident set size (VmRSS)", f"{rss_growth / MB:.2f}", f"{rss_growth / pending:,.0f}"),
    ]
    text = table(
        f"4. Memory of a full queue: {queued:,} pending dispatches, "
        f"kwargs of post_save with an unsaved User ({workers} workers parked)",
        ["measure", "MB above baseline", "bytes/dispatch"],
        rows,
    )
    text += (
        "\n   Measured first, before the other benchmarks: memory they free "
        "stays in the\n   process and would hide growth of the RSS."
    )
    return text, {"traced": traced_growth, "rss": rss_growth}
