"""
The codemod behind ``manage.py eventx codemod [PATH ...] [--apply]``.

It reads Python sources (it never imports them) and reports what moving a project from
Django signals to django-eventx takes:

- a unified diff that turns each ``django.dispatch.Signal(...)`` call into
  ``AsyncSignal(...)`` and fixes the imports, editing only the tokens that must change
  (``signal_definitions``), printed so that ``git apply`` and ``patch -p1`` take it as
  is (``diff``);
- the ``EVENTX_ASYNC_SIGNALS`` lines to add for the built-in model signals the project
  receives, minus what the setting already holds (``receivers``, ``settings_snippet``),
  and the receivers of signals that must stay synchronous;
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
from .receivers import Receiver, find_receivers
from .send_values import send_value_uses, signal_names
from .settings_snippet import configured, settings_snippet
from .signal_definitions import signal_edits
from .source import Diagnostic, Source, apply_edits, load

__all__ = ["PathError", "Report", "run"]


@dataclass
class Report:
    """What a run found: the diff for standard output, the rest for standard error."""

    diff: str = ""  # every line ends with exactly one "\n"; "" with --apply or no change
    notes: list[str] = field(default_factory=list)  # one line each, without the newline
    failed: bool = False  # a file could not be parsed, or its change could not be diffed


def run(paths: Sequence[str | os.PathLike[str]], *, apply: bool) -> Report:
    """
    The change of ``paths`` (the current directory if empty) as a diff, or written to the
    files with ``apply``. Raises PathError for a PATH that is missing or outside the
    current directory, before reading anything.
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
    labels, names = app_labels(sources), signal_names(sources)
    receivers: list[Receiver] = []
    changed: list[tuple[Source, str]] = []
    for src in sources:
        new_text = apply_edits(src.text, signal_edits(src, diagnostics))
        if new_text != src.text:
            changed.append((src, new_text))
        receivers += find_receivers(src, labels, diagnostics)
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
    report.notes.append(f"Scanned {len(files)} Python file(s) under {where}.")
    report.notes += map(_format, sorted(diagnostics))
    report.notes += settings_snippet(receivers, configured())
    report.notes += [f"Wrote {src.name}" for src, _ in changed if apply]
    if not changed:
        report.notes.append("No Signal() definitions to change.")
    elif not apply:
        report.notes.append(
            f"{len(changed)} file(s) would change: apply the diff printed on standard output "
            "with git apply or patch -p1, or run again with --apply to write the files."
        )
    report.failed = any(message.startswith("error:") for *_, message in diagnostics)
    return report


def _format(diagnostic: Diagnostic) -> str:
    """``name:line:column: message``, without the parts that are 0."""
    name, line, col, message = diagnostic
    return ":".join([name, *(str(n) for n in (line, col) if n)]) + f": {message}"
