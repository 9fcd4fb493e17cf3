"""
Run Django's suites in one mode, in this (fresh) process, and write every
test's outcome as JSON. Started by ``compat_tests/run.py``, one process per
mode, so that nothing a mode patches can leak into another.

    python -m eventx_compat.child --mode MODE --apps dispatch,signals --output FILE

The current directory must be the extracted test tree for the mode, and
``compat_tests/`` must be on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
import traceback
import unittest
from pathlib import Path
from typing import Any

from eventx_compat import EXIT_UNAVAILABLE, MODES, PATCHED_SIGNALS, SUITES

_records: dict[str, dict[str, Any]] = {}
_order: list[str] = []


def _record(test: Any, outcome: str, detail: str | None = None) -> None:
    test_id = test.id()
    previous = _records.get(test_id)
    if previous is not None and previous["outcome"] in ("failed", "error"):
        # A failing subtest already decided this test's outcome; keep the
        # first failure and append later details.
        if detail and outcome in ("failed", "error"):
            previous["detail"] = (previous.get("detail") or "") + "\n" + detail
        return
    if previous is None:
        _order.append(test_id)
    _records[test_id] = {"outcome": outcome, "detail": detail}


class RecordingResult(unittest.TextTestResult):
    """unittest's text result that also records each test's outcome."""

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)
        _record(test, "passed")

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        _record(test, "failed", self._exc_info_to_string(err, test))

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        _record(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        _record(test, "skipped", reason)

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        _record(test, "expected_failure", self._exc_info_to_string(err, test))

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        _record(test, "unexpected_success")

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            outcome = "failed" if issubclass(err[0], test.failureException) else "error"
            _record(test, outcome, f"{subtest.id()}\n{self._exc_info_to_string(err, test)}")


def _make_runner_class() -> type:
    from django.test.runner import DiscoverRunner

    class RecordingRunner(DiscoverRunner):
        def get_resultclass(self) -> type:
            return RecordingResult

    return RecordingRunner


# -- mode "patched": check the patch, then await its futures ------------------


def _probe(signal: Any, label: str) -> str | None:
    """
    Check that ``signal`` dispatches in the background: send() returns
    futures and the receiver runs on another thread. Return a problem, or None.
    """
    from eventx_compat.awaiting import resolve

    class ProbeSender:
        pass

    threads: list[int] = []

    def probe_receiver(**kwargs: Any) -> str:
        threads.append(threading.get_ident())
        return "probe"

    uid = "eventx_compat.probe"
    signal.connect(probe_receiver, sender=ProbeSender, weak=False, dispatch_uid=uid)
    try:
        try:
            values = resolve(signal.send(sender=ProbeSender), f"{label}.send()")
        except AssertionError as exc:
            return f"{label} is not patched: {exc}"
        if values != [(probe_receiver, "probe")]:
            return f"{label}.send() returned {values!r} for the probe receiver"
        if len(threads) == 1 and threads[0] != threading.get_ident():
            return None
        return f"{label}: the probe receiver ran in the caller's thread, not in the background"
    finally:
        signal.disconnect(probe_receiver, sender=ProbeSender, dispatch_uid=uid)


def _prepare_patched_mode(report: dict[str, Any]) -> str | None:
    from django.utils.module_loading import import_string

    from eventx_compat.awaiting import await_patched_signal

    for path in PATCHED_SIGNALS:
        signal = import_string(path)
        label = path.rsplit(".", 1)[1]
        problem = _probe(signal, label)
        if problem:
            return (
                f"{problem} (EVENTX_ASYNC_SIGNALS lists it; the eventx_signals "
                "app's ready() should have patched it)"
            )
        await_patched_signal(signal, label)
        report["patched"].append(path)
    return None


# -- main -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--apps", default=",".join(SUITES))
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--verbosity", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ["DJANGO_SETTINGS_MODULE"] = "eventx_compat.settings"
    os.environ["EVENTX_COMPAT_MODE"] = args.mode
    os.environ["EVENTX_COMPAT_APPS"] = args.apps
    tests_dir = Path.cwd()
    if str(tests_dir) not in sys.path[:1]:
        sys.path.insert(0, str(tests_dir))

    report: dict[str, Any] = {
        "mode": args.mode,
        "python": platform.python_version(),
        "tests_dir": str(tests_dir),
        "unavailable": None,
        "error": None,
        "patched": [],
        "tests": {},
        "stats": {},
    }

    def write() -> None:
        report["tests"] = {test_id: _records[test_id] for test_id in _order}
        args.output.write_text(json.dumps(report, indent=1), encoding="utf-8")

    import django

    import eventx_signals

    report["django"] = django.get_version()
    if args.mode == "patched" and not hasattr(eventx_signals, "patch_signal"):
        report["unavailable"] = "eventx_signals.patch_signal not found"
        write()
        return EXIT_UNAVAILABLE

    started = time.monotonic()
    try:
        django.setup()
        if args.mode == "patched":
            problem = _prepare_patched_mode(report)
            if problem:
                report["error"] = problem
                write()
                return 2
        runner = _make_runner_class()(
            verbosity=args.verbosity, interactive=False, top_level=str(tests_dir)
        )
        suites = [app for app in SUITES if app in args.apps.split(",")]
        before = eventx_signals.stats()
        runner.run_tests(suites)
    except BaseException:
        report["error"] = traceback.format_exc()
        write()
        raise
    report["seconds"] = round(time.monotonic() - started, 2)
    from eventx_signals.testing import wait_for_runs

    wait_for_runs(10)
    after = eventx_signals.stats()
    # Counted from here, so that the probes of mode "patched" do not count.
    report["stats"] = {
        key: after[key] - before[key] if key not in ("pending", "running") else after[key]
        for key in after
        if not key.startswith("lag_")  # milliseconds, not counts
    }
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
