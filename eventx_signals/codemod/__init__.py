"""
The codemod behind ``manage.py eventx codemod [PATH ...] [--apply] [--all] [--all-senders]``.

It reads Python sources (it never imports them) and reports what moving a project from
Django signals to django-eventx takes:

- which ``Signal()`` definitions are safe to make asynchronous, and why the others need
  review (``signal_review``, from their names, send sites and receivers across the
  scanned files, ``project``); likewise for each receiver of a built-in model signal
  (``receivers``). The review list has one line per item:
  ``file:line: review: <signal or receiver>: <reasons>``;
- a unified diff that turns each safe ``django.dispatch.Signal(...)`` call (each one,
  with ``--all``) into ``AsyncSignal(...)`` and fixes the imports, editing only the
  tokens that must change (``signal_definitions``), printed so that ``git apply`` and
  ``patch -p1`` take it as is (``diff``);
- the ``EVENTX_ASYNC_SIGNALS`` lines to add for the built-in model signals the project
  receives, naming the senders known from the code, minus what the setting already
  holds and the receivers that need review (``settings_snippet``), and the receivers of
  signals that must stay synchronous;
- every use of the value of ``send()``/``send_robust()``/``asend()``/``asend_robust()``,
  which now holds ``(receiver, Future)`` pairs (``send_values``).

The diff and everything else are kept apart (``Report.diff`` and ``Report.notes``) so
that the command can print the diff alone on standard output, ready for
``> change.diff``, and the notes on standard error. Line numbers refer to the files as
they are before ``--apply``. This module finds the files (``files``), runs those steps on
each and returns (or with ``--apply``, writes) the result.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .diff import DiffError, unified_diff
from .files import PathError, python_files
from .model_labels import app_labels
from .project import Project
from .receivers import Receiver, find_receivers
from .send_values import send_value_uses, signal_names
from .settings_snippet import configured, settings_snippet
from .signal_definitions import signal_edits
from .signal_review import review_signals
from .source import Diagnostic, Source, apply_edits, load
from .summary import review_list, summary

__all__ = ["EAGER_IN_TESTS", "PathError", "Report", "run"]

# The last line of the notes: what keeps a test suite passing once the setting is on.
EAGER_IN_TESTS = (
    "In tests, EVENTX_EAGER = True in the test settings (or eventx_eager = true in pytest's "
    "ini) runs every dispatch in the caller, as Django's own signals do, so an existing "
    "test suite keeps passing after the settings change."
)


@dataclass
class Report:
    """What a run found: the diff for standard output, the rest for standard error."""

    diff: str = ""  # every line ends with exactly one "\n"; "" with --apply or no change
    notes: list[str] = field(default_factory=list)  # one line each, without the newline
    failed: bool = False  # a file could not be parsed, or its change could not be diffed


def run(
    paths: Sequence[str | os.PathLike[str]],
    *,
    apply: bool,
    include_review: bool = False,
    all_senders: bool = False,
) -> Report:
    """
    The change of ``paths`` (the current directory if empty) as a diff, or written to the
    files with ``apply``. Only the Signal() definitions and receivers that need no review
    are converted and proposed, unless ``include_review`` (``--all``); a signal is made
    async for every sender only with ``all_senders``. Raises PathError for a PATH that is
    missing or outside the current directory, before reading anything.
    """
    diagnostics: list[Diagnostic] = []
    sources: list[Source] = []
    files = python_files(paths, diagnostics)
    for path, name in files:
        loaded = load(path, name)
        if isinstance(loaded, Source):
            sources.append(loaded)
        else:
            diagnostics.append(loaded)
    project = Project(sources)
    labels, names = app_labels(sources), signal_names(sources)
    definitions = review_signals(sources, project)
    kept = set() if include_review else {d.call for d in definitions if d.reasons}
    receivers: list[Receiver] = []
    changed: list[tuple[Source, str]] = []
    for src in sources:
        new_text = apply_edits(src.text, signal_edits(src, diagnostics, kept))
        if new_text != src.text:
            changed.append((src, new_text))
        receivers += find_receivers(src, project, labels, diagnostics)
        diagnostics += send_value_uses(src, names)
    report = Report()
    for src, new_text in changed:
        if apply:
            src.path.write_bytes(new_text.encode(src.encoding))
            continue
        try:
            report.diff += unified_diff(src.name, src.encoding, src.text, new_text)
        except DiffError as exc:
            diagnostics.append((src.name, 0, 0, f"error: {exc}"))
    where = (
        ", ".join(os.fspath(path) for path in paths)
        if paths
        else f"the current directory, {Path.cwd()}"
    )
    proposed = [r for r in receivers if include_review or not r.reasons]
    report.notes.append(f"Scanned {len(files)} Python file(s) under {where}.")
    report.notes += map(_format, sorted(diagnostics))
    report.notes += map(
        _format, sorted(review_list(definitions, receivers, all_senders=all_senders))
    )
    report.notes += settings_snippet(
        proposed, configured(), all_senders=all_senders, left_out=len(receivers) - len(proposed)
    )
    report.notes += summary(
        definitions, receivers, include_review=include_review, all_senders=all_senders
    )
    report.notes += [f"Wrote {src.name}" for src, _ in changed if apply]
    if not changed:
        report.notes.append("No Signal() definitions to change.")
    elif not apply:
        report.notes.append(
            f"{len(changed)} file(s) would change: apply the diff printed on standard output "
            "with git apply or patch -p1, or run again with --apply to write the files."
        )
    report.notes.append(EAGER_IN_TESTS)
    report.failed = any(message.startswith("error:") for *_, message in diagnostics)
    return report


def _format(diagnostic: Diagnostic) -> str:
    """``name:line:column: message``, without the parts that are 0."""
    name, line, col, message = diagnostic
    return ":".join([name, *(str(n) for n in (line, col) if n)]) + f": {message}"
