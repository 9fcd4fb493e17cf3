"""
Instructions per send, counted by valgrind's callgrind: a figure that does
not drift with the load of a shared machine, unlike CPU time.

    python benchmarks/instructions.py           # needs valgrind on PATH
    python benchmarks/instructions.py --json benchmarks/results/instructions.json

Three scenarios: a send with no arguments, a send with one int keyword
argument, and ``post_save`` as ``save()`` sends it, with a saved ``User``
(Django's own signal against the same signal patched by django-eventx, whose
snapshot of the instance is part of the cost). Each contender runs twice in a
fresh process under callgrind, with few and with many sends; the difference
divided by the extra sends is its cost per send, start-up excluded.

Only the sending thread is counted (``--separate-threads=yes``): the sends
go in batches of 1,000 while the single worker is held, so no thread is
woken per send, and the worker runs a batch between two batches, as it
keeps the queue short in production. The fourth row, ``post_save`` with
10,000 deliveries left queued, shows what a backed-up queue adds: every
queued delivery holds objects that Python's garbage collector walks again
and again.

A second table compares django-eventx's own send (``AsyncSignal.send`` and
the patched ``post_save``) with the ``otel`` extra installed and no tracer
provider set against the same send where OpenTelemetry is absent: in that
child an import hook placed before Django is imported makes every import of
``opentelemetry`` fail, and each child checks that
``eventx_signals.core.tracing.installed`` says what it should.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FEW, MANY = 1_000, 11_000
BATCH = 1_000

CHILD = r"""
import sys
otel = sys.argv[6]  # "installed", "absent" (made unimportable) or "as-is"
if otel == "absent":
    # Before Django and eventx_signals are imported: any import of
    # opentelemetry or of a submodule fails, as it does without the package.
    class NoOpenTelemetry:
        def find_spec(self, name, path=None, target=None):
            if name == "opentelemetry" or name.startswith("opentelemetry."):
                raise ImportError(f"No module named {name!r} (hidden by the benchmark)")
            return None
    if any(name.split(".")[0] == "opentelemetry" for name in sys.modules):
        sys.exit("opentelemetry was imported before the benchmark could hide it")
    sys.meta_path.insert(0, NoOpenTelemetry())
import threading, django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "eventx_signals"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    EVENTX_BACKENDS={
        "default": {
            "BACKEND": "eventx_signals.backends.thread.ThreadBackend",
            "OPTIONS": {"queue_size": 10**6, "workers": 1},
        }
    },
)
django.setup()
from eventx_signals.core import tracing
if otel != "as-is" and tracing.installed != (otel == "installed"):
    sys.exit(f"otel={otel} but eventx_signals.core.tracing.installed is {tracing.installed}")
if tracing.enabled():
    sys.exit("a tracer provider is set: the send would make spans")
from django.contrib.auth.models import User
from django.db.models.signals import post_save
from django.dispatch import Signal
from eventx_signals import AsyncSignal, patch_signal

from eventx_signals.testing import wait_for_runs
scenario, eventx, count, batch = sys.argv[1], sys.argv[2] == "eventx", int(sys.argv[3]), int(sys.argv[4])
drain = sys.argv[5] == "drain"
def noop(sender, **kwargs): pass
release = threading.Event()
def park(sender, **kwargs): release.wait()
blocker = AsyncSignal(); blocker.connect(park, weak=False)
if scenario == "post_save":
    # What save() sends: a saved instance and Django's own arguments.
    signal = post_save
    if eventx:
        patch_signal(post_save)
    user = User(pk=1, username="ada", email="ada@example.com", first_name="Ada")
    user._state.adding = False
    args = (User,)
    kwargs = dict(instance=user, created=False, update_fields=None, raw=False, using="default")
else:
    signal = AsyncSignal() if eventx else Signal()
    args = (None,)
    kwargs = {"n": 1} if scenario == "int" else {}
signal.connect(noop, weak=False)
send = signal.send
for start in range(0, count, batch):
    release.clear(); blocker.send(None)  # the worker waits while a batch is sent
    for _ in range(min(batch, count - start)):
        send(*args, **kwargs)
    if drain:
        release.set(); wait_for_runs(600)  # then runs it, as it would
import os; os._exit(0)
"""

#: (scenario, what it sends, Django's contender, django-eventx's contender,
#: sends per batch: the most ever queued)
SCENARIOS = [
    ("none", "send(None)", "Signal.send", "AsyncSignal.send", BATCH),
    ("int", "send(None, n=1)", "Signal.send", "AsyncSignal.send", BATCH),
    ("post_save", "post_save with a User", "post_save.send", "patched post_save.send", BATCH),
    (
        "post_save",
        "post_save, 10,000 left queued",
        "post_save.send",
        "patched post_save.send",
        MANY,
    ),
]
TARGET = 2.0

#: django-eventx's send with the ``otel`` extra (opentelemetry-api) importable
#: but no SDK configured, against the same send with ``import opentelemetry``
#: failing: (scenario, what it sends).
OTEL_SCENARIOS = [
    ("none", "AsyncSignal.send(None)"),
    ("post_save", "patched post_save.send"),
]
#: What the API installed without a provider may add to a send.
OTEL_TARGET = 1.03


def instructions(scenario: str, contender: str, count: int, batch: int, otel: str = "as-is") -> int:
    """Instructions of the main (sending) thread of one child run; ``otel``:
    "installed" or "absent" (checked in the child), or "as-is"."""
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--separate-threads=yes",
                f"--callgrind-out-file={out}/callgrind.out",
                sys.executable,
                "-c",
                CHILD,
                scenario,
                contender,
                str(count),
                str(batch),
                # The row with batch MANY leaves everything queued.
                "drain" if batch < MANY else "keep",
                otel,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"child {scenario} {contender} otel={otel} failed ({result.returncode}):\n"
                + result.stderr[-3000:]
            )
        # One file per thread; "-01" is the main thread's.
        text = (Path(out) / "callgrind.out-01").read_text()
    return int(re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE).group(1))


def per_send(scenario: str, contender: str, batch: int, otel: str = "as-is") -> float:
    many = instructions(scenario, contender, MANY, batch, otel)
    few = instructions(scenario, contender, FEW, batch, otel)
    return (many - few) / (MANY - FEW)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write the results to PATH as JSON"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed; nothing measured.")
        return 1
    started = time.perf_counter()
    rows = []
    print(f"{'scenario':24s} {'Django':>10s} {'eventx':>10s}  ratio   target")
    for scenario, label, django_contender, eventx_contender, batch in SCENARIOS:
        django = per_send(scenario, "django", batch)
        eventx = per_send(scenario, "eventx", batch)
        ratio = eventx / django
        verdict = "PASS" if ratio <= TARGET else "MISS"
        print(
            f"{label:24s} {django:10,.0f} {eventx:10,.0f}  {ratio:4.2f}x  <= {TARGET:.2f}x {verdict}"
        )
        rows.append(
            {
                "scenario": scenario,
                "label": label,
                "django_contender": django_contender,
                "eventx_contender": eventx_contender,
                "most_queued": min(batch, MANY),
                "django_instructions": django,
                "eventx_instructions": eventx,
                "ratio": ratio,
                "target": f"<= {TARGET:.2f}x",
                "met": ratio <= TARGET,
            }
        )
    print("(instructions per send, one no-op receiver; Django's Signal.send or post_save.send")
    print(" against AsyncSignal.send or post_save patched by django-eventx)")
    print()
    otel_rows = []
    print(f"{'django-eventx send':24s} {'absent':>10s} {'installed':>10s}  ratio   target")
    for scenario, label in OTEL_SCENARIOS:
        absent = per_send(scenario, "eventx", BATCH, "absent")
        installed = per_send(scenario, "eventx", BATCH, "installed")
        ratio = installed / absent
        verdict = "PASS" if ratio <= OTEL_TARGET else "MISS"
        print(
            f"{label:24s} {absent:10,.0f} {installed:10,.0f}  {ratio:4.2f}x"
            f"  <= {OTEL_TARGET:.2f}x {verdict}"
        )
        otel_rows.append(
            {
                "scenario": scenario,
                "label": label,
                "absent_instructions": absent,
                "installed_instructions": installed,
                "ratio": ratio,
                "target": f"<= {OTEL_TARGET:.2f}x",
                "met": ratio <= OTEL_TARGET,
            }
        )
    print("(instructions per send, one no-op receiver: opentelemetry-api importable and no")
    print(" tracer provider set, against `import opentelemetry` failing)")
    if args.json:
        import django as django_module

        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "benchmark": "instructions",
            "python": platform.python_version(),
            "django": django_module.get_version(),
            "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "scenarios": rows,
            "otel_api": otel_rows,
            "seconds": time.perf_counter() - started,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"Results written to {args.json}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
