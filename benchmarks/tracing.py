"""
What tracing costs one send and its run, outside any server. Run from the
repository root (needs the OpenTelemetry SDK, in the ``test`` extra):

    python benchmarks/tracing.py              # 5 rounds of 5,000 sends per contender
    python benchmarks/tracing.py --rounds 3 --sends 2000

Each contender runs in a fresh process, the two alternating round by round:
``untraced`` (the API installed, no provider set) and ``traced`` (the SDK's
TracerProvider with a BatchSpanProcessor whose exporter does nothing, so
that only making, ending and queueing the two spans of a dispatch are
counted: the PRODUCER span of the send and the CONSUMER span of its run).
One ``AsyncSignal`` with one no-op receiver on the thread backend; the
sends go in batches of 100, each waited for. Reported: CPU time of the
whole process (sender and worker thread) per send and run, the median over
rounds, and the median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CHILD = r"""
import sys, time, django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["eventx_signals"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
django.setup()
if sys.argv[1] == "traced":
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Discard(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard()))
    trace.set_tracer_provider(provider)
from eventx_signals import AsyncSignal
from eventx_signals.testing import wait_for_runs
signal = AsyncSignal()
signal.connect(lambda sender, **kwargs: None, weak=False)
for _ in range(200):  # warm-up: the worker thread started, the code paths hot
    signal.send(sender=None)
wait_for_runs()
sends = int(sys.argv[2])
started = time.process_time()
for index in range(sends):
    signal.send(sender=None)
    if index % 100 == 99:
        wait_for_runs()
wait_for_runs()
print((time.process_time() - started) / sends * 1e6)
"""

CONTENDERS = ("untraced", "traced")


def measure(contender: str, sends: int) -> float:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, contender, str(sends)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds [5]")
    parser.add_argument("--sends", type=int, default=5000, help="sends per process [5000]")
    args = parser.parse_args()
    results: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for round_index in range(args.rounds):
        order = CONTENDERS if round_index % 2 == 0 else CONTENDERS[::-1]
        for name in order:
            results[name].append(measure(name, args.sends))
    ratios = [t / u for t, u in zip(results["traced"], results["untraced"])]
    print(f"{'contender':10s} {'CPU us per send and run (median)':>34s}  rounds")
    for name in CONTENDERS:
        rounds = " ".join(f"{value:.1f}" for value in results[name])
        print(f"{name:10s} {statistics.median(results[name]):34.1f}  {rounds}")
    print(f"traced / untraced: {statistics.median(ratios):.2f}x (median of per-round ratios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
