"""
The migration assistant behind ``manage.py eventx migrate [PATH ...] [--apply]``.

It reads Python sources (it never imports them) and reports what moving a project from
Django signals to django-eventx takes:

- a unified diff that turns each ``django.dispatch.Signal(...)`` call into
  ``AsyncSignal(...)`` and fixes the imports, editing only the tokens that must change
  (``signal_definitions``);
- the ``EVENTX_ASYNC_SIGNALS`` setting for the built-in model signals the project
  receives, and the receivers of signals that must stay synchronous (``receivers``);
- every use of the value of ``send()``/``send_robust()``/``asend()``/``asend_robust()``,
  which now holds ``(receiver, Future)`` pairs (``send_values``).

Line numbers refer to the files as they are before ``--apply``. This module finds the
files, runs those steps on each and prints (or with ``--apply``, writes) the result.
"""

from __future__ import annotations

import difflib
import errno
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from .model_labels import app_labels
from .receivers import Receiver, find_receivers, settings_snippet
from .send_values import send_value_uses, signal_names
from .signal_definitions import signal_edits
from .source import Diagnostic, Source, apply_edits, lines_of, load

__all__ = ["run"]

# Directories never walked into, besides hidden ones and virtualenvs (found by pyvenv.cfg).
SKIPPED_DIRS = frozenset({"migrations", "__pycache__", "site-packages", "node_modules", "venv"})


def run(paths: Sequence[str | os.PathLike[str]], *, apply: bool, stdout: TextIO) -> int:
    """Print (and with ``apply``, write) the migration of ``paths``; 1 if a file did not parse."""
    sources: list[Source] = []
    diagnostics: list[Diagnostic] = []
    for path, name in sorted(_python_files(paths), key=lambda item: item[1]):
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
    for src, new_text in changed:
        if apply:
            src.path.write_bytes(new_text.encode(src.encoding))
            continue
        before, after = lines_of(src.text), lines_of(new_text)
        diff = difflib.unified_diff(before, after, f"a/{src.name}", f"b/{src.name}", lineterm="")
        print(*diff, sep="\n", file=stdout)
    for name, line, col, message in sorted(diagnostics):
        print(
            f"{name}:{line}:{col}: {message}" if col else f"{name}:{line}: {message}", file=stdout
        )
    print(*settings_snippet(receivers), sep="\n", file=stdout)
    for src, _ in changed if apply else ():
        print(f"Wrote {src.name}", file=stdout)
    if not changed:
        print("No Signal() definitions to change.", file=stdout)
    elif not apply:
        print(
            f"{len(changed)} file(s) would change; run again with --apply to write them.",
            file=stdout,
        )
    return 1 if any(message.startswith("error:") for *_, message in diagnostics) else 0


def _python_files(paths: Sequence[str | os.PathLike[str]]) -> Iterator[tuple[Path, str]]:
    """Yield (path, name to show) of each file to scan, once."""
    seen: set[Path] = set()
    cwd = Path.cwd()
    for given in map(Path, paths):
        if not given.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(given))
        found = [given] if given.is_file() else []
        for root, dirs, names in os.walk(given):  # yields nothing for a file
            dirs[:] = sorted(
                d
                for d in dirs
                if not (
                    d.startswith(".") or d in SKIPPED_DIRS or Path(root, d, "pyvenv.cfg").exists()
                )
            )
            found += [Path(root, name) for name in sorted(names) if name.endswith(".py")]
        for path in found:
            if (resolved := path.resolve()) not in seen:
                seen.add(resolved)
                shown = resolved.relative_to(cwd) if resolved.is_relative_to(cwd) else path
                yield path, shown.as_posix()
