"""Fetch Django's sdist with pip and extract the test suites this harness runs."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

# Fragments of pip's output that mean "the network is not reachable", as
# opposed to any other failure (unknown version, broken build back-end...).
_OFFLINE_MARKERS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "nodename nor servname provided",
    "Network is unreachable",
    "No route to host",
    "Connection refused",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "connection broken by",
)


class DownloadError(Exception):
    """pip could not download the sdist; ``offline`` tells whether that is
    because the network is unreachable."""

    def __init__(self, message: str, offline: bool) -> None:
        super().__init__(message)
        self.offline = offline


def cached_sdist(cache_dir: Path, version: str) -> Path | None:
    """Return the cached sdist of Django ``version``, if it is there and readable."""
    wanted = f"django-{version}.tar.gz"
    if not cache_dir.is_dir():
        return None
    for candidate in sorted(cache_dir.iterdir()):
        if candidate.name.lower() == wanted and candidate.is_file():
            try:
                with tarfile.open(candidate, "r:gz") as archive:
                    archive.next()
            except (tarfile.TarError, OSError, EOFError):
                continue  # truncated or corrupt: download it again
            return candidate
    return None


def download_sdist(cache_dir: Path, version: str) -> Path:
    """
    Download the sdist of ``Django==version`` into ``cache_dir`` with pip.

    pip prepares the sdist's metadata even with ``--no-deps``; that needs a
    recent setuptools, so the default (isolated) build is tried first, then
    ``--no-build-isolation`` (which works offline from a local index if the
    environment's setuptools is recent enough).
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    base = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        "--timeout",
        "30",
        "--retries",
        "2",
    ]
    outputs = []
    for extra in ([], ["--no-build-isolation"]):
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as tmp:
            command = base + extra + [f"Django=={version}", "-d", tmp]
            try:
                completed = subprocess.run(command, capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired as exc:
                outputs.append(f"$ {' '.join(command)}\n(timed out after {exc.timeout} s)")
                continue
            files = [p for p in Path(tmp).iterdir() if p.name.lower().endswith(".tar.gz")]
            if completed.returncode == 0 and files:
                target = cache_dir / files[0].name
                shutil.move(str(files[0]), target)
                return target
            outputs.append(f"$ {' '.join(command)}\n{completed.stdout}{completed.stderr}".rstrip())
            if is_offline_output(outputs[-1]):
                break  # no point in a second attempt without a network
    text = "\n\n".join(outputs)
    raise DownloadError(text, offline=is_offline_output(text))


def is_offline_output(text: str) -> bool:
    return any(marker in text for marker in _OFFLINE_MARKERS)


# -- extraction ---------------------------------------------------------------


def _tests_members(
    archive: tarfile.TarFile,
) -> dict[str, list[tuple[PurePosixPath, tarfile.TarInfo]]]:
    """Map each top-level entry of the sdist's ``tests/`` directory to its
    regular files (path relative to ``tests/``, member)."""
    entries: dict[str, list[tuple[PurePosixPath, tarfile.TarInfo]]] = {}
    for member in archive.getmembers():
        parts = PurePosixPath(member.name).parts
        if len(parts) < 3 or parts[1] != "tests":
            continue
        relative = PurePosixPath(*parts[2:])
        if any(part in ("..", "") or part.startswith("/") for part in relative.parts):
            raise ValueError(f"Refusing to extract suspicious path {member.name!r}")
        name = relative.parts[0]
        if name.endswith(".py") and len(relative.parts) == 1:
            name = name[:-3]
        files = entries.setdefault(name, [])
        if member.isfile():
            files.append((relative, member))
    return entries


def _imported_top_level_names(path: Path) -> set[str]:
    """Absolute imports of a Python file, by first component."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _importable_elsewhere(name: str) -> bool:
    """Whether ``name`` is a module of the standard library or of the
    environment: a test directory of that name would shadow it, and the
    import means that module anyway."""
    import importlib.util

    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def extract_suites(sdist: Path, destination: Path, suites: tuple[str, ...]) -> list[str]:
    """
    Extract ``tests/<suite>/`` for each suite, plus every other entry of the
    sdist's ``tests/`` tree that the extracted files import (recursively),
    into ``destination``. Return the names extracted, suites first.
    """
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    with tarfile.open(sdist, "r:gz") as archive:
        entries = _tests_members(archive)
        missing = [suite for suite in suites if not entries.get(suite)]
        if missing:
            raise ValueError(
                f"{sdist.name} has no tests/{'/, tests/'.join(missing)}/ "
                "(Django's test layout changed?)"
            )
        extracted: list[str] = []
        queue = list(suites)
        while queue:
            name = queue.pop(0)
            if name in extracted:
                continue
            extracted.append(name)
            written = []
            for relative, member in entries[name]:
                target = destination.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None
                with source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                written.append(target)
            for target in written:
                if target.suffix == ".py":
                    for imported in sorted(_imported_top_level_names(target)):
                        if (
                            imported in entries
                            and imported not in extracted
                            and not _importable_elsewhere(imported)
                        ):
                            queue.append(imported)
    (destination / ".extracted").write_text("\n".join(extracted) + "\n")
    return extracted


def extracted_names(destination: Path) -> list[str] | None:
    """The names a previous ``extract_suites`` wrote, or None if incomplete."""
    marker = destination / ".extracted"
    if not marker.is_file():
        return None
    return [line for line in marker.read_text().splitlines() if line]


def app_names(tests_dir: Path, names: list[str], suites: tuple[str, ...]) -> list[str]:
    """The suites, and the extracted dependencies that define models, as
    INSTALLED_APPS entries (Django's runtests installs test dirs that way)."""
    apps = list(suites)
    for name in names:
        if name in apps:
            continue
        package = tests_dir / name
        if (package / "models.py").is_file() or (package / "models").is_dir():
            apps.append(name)
    return apps


# -- the "asyncsignal" rewrite -----------------------------------------------------

_SIGNAL_MODULES = ("django.dispatch", "django.dispatch.dispatcher")
_MARK = "  # eventx-compat: mode asyncsignal"


def rewrite_signal_imports(source: str, filename: str = "<source>") -> tuple[str, list[str]]:
    """
    Return ``source`` with one line inserted after every import that binds
    ``django.dispatch.Signal`` (or the ``django.dispatch`` module) to a name,
    rebinding that name to the awaiting AsyncSignal of
    ``eventx_compat.awaiting`` (or to a ``django.dispatch`` look-alike whose
    ``Signal`` is that class). The upstream lines stay untouched, so the diff
    is the inserted lines only. Also return a description of each insertion.
    """
    tree = ast.parse(source, filename=filename)
    lines = source.splitlines(keepends=True)
    insertions: dict[int, list[str]] = {}
    notes: list[str] = []
    for node in ast.walk(tree):
        rebind: list[tuple[str, str]] = []  # (name in eventx_compat.awaiting, bound name)
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                if node.module in _SIGNAL_MODULES and alias.name == "Signal":
                    rebind.append(("AwaitingAsyncSignal", alias.asname or "Signal"))
                elif node.module == "django" and alias.name == "dispatch":
                    rebind.append(("awaiting_dispatch", alias.asname or "dispatch"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _SIGNAL_MODULES and alias.asname:
                    rebind.append(("awaiting_dispatch", alias.asname))
        if not rebind:
            continue
        line = lines[node.lineno - 1]
        indent = line[: node.col_offset]
        if indent.strip():
            raise ValueError(
                f"{filename}:{node.lineno}: cannot insert after an import that "
                "does not start its line"
            )
        newline = "\r\n" if line.endswith("\r\n") else "\n"
        for provided, bound in rebind:
            target = provided if provided == bound else f"{provided} as {bound}"
            insertions.setdefault(node.end_lineno, []).append(
                f"{indent}from eventx_compat.awaiting import {target}{_MARK}{newline}"
            )
            notes.append(
                f"{filename}:{node.end_lineno}: {bound} -> eventx_compat.awaiting.{provided}"
            )
    if not insertions:
        return source, []
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        out.append(line)
        out.extend(insertions.get(number, ()))
    return "".join(out), notes


def make_asyncsignal_tree(upstream: Path, work: Path) -> tuple[list[str], str]:
    """
    Copy ``upstream`` to ``work`` with every Python file rewritten by
    ``rewrite_signal_imports``. Return the insertion notes and the unified
    diff (also written next to ``work`` as ``<work>.diff``).
    """
    import difflib

    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(upstream, work, ignore=shutil.ignore_patterns("__pycache__"))
    notes: list[str] = []
    diff: list[str] = []
    for path in sorted(work.rglob("*.py")):
        relative = path.relative_to(work).as_posix()
        original = path.read_text(encoding="utf-8")
        rewritten, file_notes = rewrite_signal_imports(original, relative)
        if not file_notes:
            continue
        path.write_text(rewritten, encoding="utf-8")
        notes.extend(file_notes)
        diff.extend(
            difflib.unified_diff(
                original.splitlines(keepends=True),
                rewritten.splitlines(keepends=True),
                fromfile=f"upstream/{relative}",
                tofile=f"{work.name}/{relative}",
            )
        )
    diff_text = "".join(diff)
    work.with_name(work.name + ".diff").write_text(diff_text, encoding="utf-8")
    return notes, diff_text


def safe_version(version: str) -> str:
    """``version`` as a file-name component."""
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", version)
