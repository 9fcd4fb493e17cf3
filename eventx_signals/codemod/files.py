"""
The Python files the codemod scans, each with the name its diff shows.

With no PATH it scans the current directory, recursively: run from a project's root
(next to ``manage.py``) that is the project's own code, and nothing else. The installed
apps' directories would be a worse default: they miss project modules that are not apps
(``config/signals.py``), and include third-party apps in site-packages, whose files a
diff of the project must not touch.

Every name is relative to the current directory, because the diff is applied from there
(``git apply`` and ``patch -p1`` take ``a/<name>``). A PATH outside the current directory
is refused rather than shown as ``a/../...`` (which ``git apply`` and ``patch`` both
reject) or as an absolute path (``a//tmp/...``); a file that resolves outside it
through a symbolic link is skipped with a note.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .source import Diagnostic

__all__ = ["SKIPPED_DIRS", "PathError", "python_files"]

# Directories never walked into, besides hidden ones (.git, .venv, .tox...) and
# virtualenvs, found by their pyvenv.cfg. A PATH given on the command line is scanned
# even if it is one of them.
SKIPPED_DIRS = frozenset(
    {"migrations", "__pycache__", "site-packages", "dist-packages", "node_modules", "venv"}
)


class PathError(ValueError):
    """A PATH argument that cannot be scanned: missing, or outside the current directory."""


def python_files(
    paths: Sequence[str | os.PathLike[str]], out: list[Diagnostic]
) -> list[tuple[Path, str]]:
    """
    (path, name relative to the current directory) of each ``.py`` file under ``paths``
    (the current directory if empty), once each, sorted by name.
    """
    cwd = Path.cwd().resolve()
    found: dict[Path, str] = {}
    for given in map(Path, paths or ["."]):
        if not given.exists():
            raise PathError(
                f"PATH {str(given)!r} does not exist; pass files or directories that exist, "
                f"relative to the current directory {cwd}."
            )
        if not given.resolve().is_relative_to(cwd):
            raise PathError(
                f"PATH {str(given)!r} is outside the current directory {cwd}; run the command "
                "from a directory that holds it (such as the project's root), so that the "
                "diff's paths are relative to where it is applied."
            )
        for path in _walk(given):
            resolved = path.resolve()
            if not resolved.is_relative_to(cwd):
                note = f"note: skipped: it is a link to {resolved}, outside the current directory"
                out.append((path.as_posix(), 0, 0, note))
                continue
            found.setdefault(resolved, resolved.relative_to(cwd).as_posix())
    return sorted(found.items(), key=lambda item: item[1])


def _walk(given: Path) -> list[Path]:
    """``given`` if it is a file, else the .py files under it, outside skipped directories."""
    found = [given] if given.is_file() else []
    for root, dirs, names in os.walk(given):  # yields nothing for a file
        dirs[:] = sorted(
            d
            for d in dirs
            if not (d.startswith(".") or d in SKIPPED_DIRS or Path(root, d, "pyvenv.cfg").exists())
        )
        found += [Path(root, name) for name in sorted(names) if name.endswith(".py")]
    return found
