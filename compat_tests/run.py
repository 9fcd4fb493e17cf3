#!/usr/bin/env python
"""
Run Django's own ``dispatch`` and ``signals`` test suites against django-eventx.

    python compat_tests/run.py [--mode asyncsignal] [--mode patched] [-v]

The suites come from the sdist of the installed Django version, downloaded
with pip into ``compat_tests/.cache/`` on first use. Each mode runs in its
own subprocess:

1. ``baseline``: the suites unchanged;
2. ``asyncsignal``: every ``Signal`` the suites create is an ``AsyncSignal``
   whose send methods wait for their futures;
3. ``patched``: Django's model signals made async by ``EVENTX_ASYNC_SIGNALS``,
   with the futures awaited.

Exit status: 0 when modes 2 and 3 pass every test the baseline passes, apart
from the expected differences listed in README.rst (or when the sdist cannot
be downloaded because the machine is offline and ``CI`` is not set); 1 when
there is an unexpected difference; 2 when a mode could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import zlib
from importlib.metadata import version as distribution_version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from eventx_compat import (  # noqa: E402
    EXIT_UNAVAILABLE,
    MODE_TITLES,
    MODES,
    SUITES,
    sdist,
)
from eventx_compat.expected import consistency_problems  # noqa: E402
from expected_differences import EXPECTED_DIFFERENCES  # noqa: E402

OK_OUTCOMES = ("passed", "expected_failure")
COLUMNS = (
    ("passed", "passed"),
    ("failed", "failed"),
    ("error", "errors"),
    ("skipped", "skipped"),
    ("expected_failure", "xfail"),
    ("unexpected_success", "xpass"),
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def suite_of(test_id: str) -> str:
    # "setUpClass (signals.tests.SignalTests)" names the class in brackets.
    if "(" in test_id and test_id.endswith(")"):
        test_id = test_id[test_id.index("(") + 1 : -1]
    return test_id.split(".", 1)[0]


# -- preparing the test trees -----------------------------------------------------


def prepare(cache_dir: Path, django_version: str) -> tuple[Path, Path, list[str]]:
    """
    Return the sdist, the directory holding this version's trees, and the
    names extracted from the sdist's tests/. Raises sdist.DownloadError.
    """
    version_dir = cache_dir / f"django-{sdist.safe_version(django_version)}"
    upstream = version_dir / "upstream"
    archive = sdist.cached_sdist(cache_dir, django_version)
    source = "cached"
    for attempt in (1, 2):
        if archive is None:
            print(f"Downloading the Django {django_version} sdist with pip into {cache_dir} ...")
            archive = sdist.download_sdist(cache_dir, django_version)
            source = "downloaded"
        names = sdist.extracted_names(upstream)
        if names is not None and all(suite in names for suite in SUITES):
            break
        try:
            names = sdist.extract_suites(archive, upstream, SUITES)
            break
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            if attempt == 2 or source == "downloaded":
                raise
            print(f"The cached {archive.name} is unreadable ({exc}); downloading it again.")
            archive.unlink()
            archive = None
    print(
        f"Django {django_version}: sdist {archive.name} ({source}); extracted tests/{', tests/'.join(names)}"
    )
    return archive, version_dir, names


def tree_for(mode: str, version_dir: Path) -> Path:
    return version_dir / ("asyncsignal" if mode == "asyncsignal" else "upstream")


# -- running one mode ---------------------------------------------------------------


def run_mode(
    mode: str, version_dir: Path, apps: list[str], timeout: float, verbosity: int
) -> dict[str, Any]:
    results_dir = version_dir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    output = results_dir / f"{mode}.json"
    log = results_dir / f"{mode}.log"
    output.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep the extracted trees pristine
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        sys.executable,
        "-m",
        "eventx_compat.child",
        "--mode",
        mode,
        "--apps",
        ",".join(apps),
        "--output",
        str(output),
        "--verbosity",
        str(verbosity),
    ]
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as log_file:
        try:
            completed = subprocess.run(
                command,
                cwd=tree_for(mode, version_dir),
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
            returncode = completed.returncode
        except subprocess.TimeoutExpired:
            returncode = None
    report: dict[str, Any] = {"mode": mode, "log": str(log), "returncode": returncode}
    if output.is_file():
        report.update(json.loads(output.read_text(encoding="utf-8")))
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    if returncode is None:
        report["error"] = f"timed out after {timeout} seconds"
    elif returncode == EXIT_UNAVAILABLE and report.get("unavailable"):
        pass
    elif returncode != 0 and not report.get("error"):
        report["error"] = f"subprocess exited with status {returncode}"
    elif not report.get("error") and not report.get("tests"):
        report["error"] = "no test ran (Django's test layout changed?)"
    elif (
        mode != "baseline"
        and not report.get("error")
        and not report.get("stats", {}).get("dispatched")
    ):
        report["error"] = (
            "eventx dispatched no receiver during the tests: the mode did not "
            "make any signal asynchronous, so its results would prove nothing"
        )
    return report


def log_tail(report: dict[str, Any], lines: int = 40) -> str:
    try:
        text = Path(report["log"]).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# -- reporting -----------------------------------------------------------------------


def print_mode_table(number: int, report: dict[str, Any]) -> None:
    mode = report["mode"]
    print()
    print(f"Mode {number}: {mode} -- {MODE_TITLES[mode]}")
    if report.get("unavailable"):
        print(f"  mode unavailable: {report['unavailable']}")
        return
    if report.get("error") and not report.get("tests"):
        print(f"  mode could not run: {report['error']}")
        print(f"  (log: {report['log']})")
        return
    counts: dict[str, dict[str, int]] = {}
    for test_id, record in report["tests"].items():
        row = counts.setdefault(suite_of(test_id), {key: 0 for key, _ in COLUMNS})
        row[record["outcome"]] = row.get(record["outcome"], 0) + 1
    header = f"  {'suite':<12}" + "".join(f"{title:>9}" for _, title in COLUMNS) + f"{'total':>9}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    total = {key: 0 for key, _ in COLUMNS}
    for suite in sorted(counts):
        row = counts[suite]
        for key in total:
            total[key] += row.get(key, 0)
        print(
            f"  {suite:<12}"
            + "".join(f"{row.get(key, 0):>9}" for key, _ in COLUMNS)
            + f"{sum(row.values()):>9}"
        )
    print(
        f"  {'all':<12}"
        + "".join(f"{total[key]:>9}" for key, _ in COLUMNS)
        + f"{sum(total.values()):>9}"
    )
    stats = report.get("stats") or {}
    print(
        f"  receiver runs dispatched by eventx during the tests: {stats.get('dispatched', 0)}"
        f" (failed: {stats.get('failed', 0)}); {report.get('wall_seconds', '?')} s"
    )
    if report.get("error"):
        print(f"  ERROR: {report['error']}")


def compare(
    baseline: dict[str, Any], reports: list[dict[str, Any]], verbose: bool = False
) -> tuple[list[tuple], list[str]]:
    """
    Return (differences, notes). A difference is (mode, test id, outcome,
    reason or None); reason None means UNEXPECTED.
    """
    base_tests = baseline.get("tests", {})
    base_ok = {test for test, record in base_tests.items() if record["outcome"] in OK_OUTCOMES}
    differences: list[tuple] = []
    notes: list[str] = []
    for report in reports:
        mode = report["mode"]
        if not report.get("tests"):
            continue
        tests = report["tests"]
        expected = EXPECTED_DIFFERENCES.get(mode, {})
        for test in sorted(base_ok):
            outcome = tests.get(test, {}).get("outcome", "missing")
            if outcome not in OK_OUTCOMES:
                differences.append((mode, test, outcome, expected.get(test)))
        for test, record in tests.items():
            if test not in base_tests and record["outcome"] not in OK_OUTCOMES + ("skipped",):
                differences.append(
                    (mode, test, f"{record['outcome']} (not in baseline)", expected.get(test))
                )
        for test in sorted(expected):
            outcome = tests.get(test, {}).get("outcome")
            if outcome in OK_OUTCOMES:
                notes.append(f"{mode}: {test} is listed as an expected difference but passes")
            elif outcome is None and test not in base_tests and verbose:
                notes.append(
                    f"{mode}: {test} is listed as an expected difference but is not in Django {baseline.get('django')}'s suites"
                )
    return differences, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mode",
        action="append",
        choices=MODES[1:],
        help="run only this mode (repeatable); the baseline always runs",
    )
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".cache")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per mode")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show every test's outcome and the logs"
    )
    args = parser.parse_args(argv)
    modes = ["baseline"] + [mode for mode in MODES[1:] if not args.mode or mode in args.mode]

    problems = consistency_problems(EXPECTED_DIFFERENCES, HERE / "README.rst")

    django_version = distribution_version("Django")
    try:
        _, version_dir, names = prepare(args.cache_dir.resolve(), django_version)
    except sdist.DownloadError as exc:
        reason = "offline?" if exc.offline else "see pip's output above"
        if exc.offline and not in_ci():
            print(
                f"compat_tests skipped: cannot download the Django {django_version} sdist ({reason})."
            )
            print(
                f"Connect to the network, or put django-{django_version}.tar.gz in "
                f"{args.cache_dir}, and run again (with CI set, this is a failure)."
            )
            return 0
        print(exc)
        print(f"compat_tests FAILED: cannot download the Django {django_version} sdist ({reason}).")
        return 2
    tests_dir = version_dir / "upstream"
    apps = sdist.app_names(tests_dir, names, SUITES)

    if "asyncsignal" in modes:
        notes, _ = sdist.make_asyncsignal_tree(tests_dir, version_dir / "asyncsignal")
        if not notes:
            problems.append(
                "mode asyncsignal: no import of django.dispatch.Signal found to replace"
            )
        print(
            f"Mode asyncsignal rewrites {len(notes)} import(s); diff: {version_dir / 'asyncsignal.diff'}"
        )
        if args.verbose:
            for note in notes:
                print(f"  {note}")

    reports = []
    for mode in modes:
        print(f"Running mode {mode} ...", flush=True)
        reports.append(run_mode(mode, version_dir, apps, args.timeout, 2 if args.verbose else 1))

    for report in reports:
        print_mode_table(MODES.index(report["mode"]) + 1, report)
        if args.verbose and report.get("tests"):
            for test_id, record in report["tests"].items():
                print(f"    {record['outcome']:<18} {test_id}")
        tail = log_tail(report) if report.get("error") else ""
        if tail.strip() and (args.verbose or not report.get("tests")):
            print("  --- last lines of the log ---")
            print("  " + tail.replace("\n", "\n  "))

    baseline = reports[0]
    failed_modes = [r["mode"] for r in reports if r.get("error") or r.get("unavailable")]
    base_broken = [
        test
        for test, record in baseline.get("tests", {}).items()
        if record["outcome"] not in OK_OUTCOMES + ("skipped",)
    ]
    differences, notes = compare(baseline, reports[1:], args.verbose)
    unexpected = [d for d in differences if d[3] is None]

    print()
    print("Tests that pass in the baseline but not in another mode:")
    if not differences:
        print("  none")
    width = max((len(d[1]) for d in differences), default=0)
    reasons: list[str] = []  # printed once each, as numbered footnotes
    for mode, test, outcome, reason in differences:
        if reason:
            if reason not in reasons:
                reasons.append(reason)
            verdict = f"expected (listed in README) [{reasons.index(reason) + 1}]"
        else:
            verdict = "UNEXPECTED"
        print(f"  {mode:<12} {test:<{width}}  {outcome:<8} {verdict}")
    for number, reason in enumerate(reasons, start=1):
        print(f"  [{number}] {reason}")
    for note in notes:
        print(f"  note: {note}")
    if base_broken:
        print()
        print(
            "Baseline failures (Django's unchanged suites must pass; the harness or environment is broken):"
        )
        for test in base_broken:
            print(f"  {test}: {baseline['tests'][test]['outcome']}")
    if unexpected or base_broken:
        print()
        print("Details:")
        for mode, test, outcome, _ in unexpected:
            report = next(r for r in reports if r["mode"] == mode)
            detail = report["tests"].get(test, {}).get("detail") or "(no detail)"
            print(f"--- {mode}: {test} ({outcome})")
            print(detail.rstrip())
        for test in base_broken:
            print(f"--- baseline: {test}")
            print((baseline["tests"][test].get("detail") or "").rstrip())
    for problem in problems:
        print(f"PROBLEM: {problem}")

    print()
    expected_count = len(differences) - len(unexpected)
    if unexpected or base_broken or problems or failed_modes:
        parts = []
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected difference(s)")
        if base_broken:
            parts.append(f"{len(base_broken)} baseline failure(s)")
        if failed_modes:
            parts.append(f"mode(s) not run: {', '.join(failed_modes)}")
        if problems:
            parts.append(f"{len(problems)} problem(s)")
        print(f"compat_tests FAILED: {'; '.join(parts)}.")
        return 1 if not failed_modes else 2
    print(
        f"compat_tests OK: mode(s) {', '.join(modes[1:])} pass every test the baseline "
        f"passes, apart from {expected_count} expected difference(s) listed in "
        "compat_tests/README.rst."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
