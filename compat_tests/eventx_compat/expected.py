"""The list of expected differences, and its copy in README.rst."""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = ".. expected-differences-begin"
END = ".. expected-differences-end"

_ROW = re.compile(r"^\s*\*\s+-\s+(?P<cell>.*)$")
_CELL = re.compile(r"^\s+-\s+(?P<cell>.*)$")


def _literal(cell: str) -> str:
    cell = cell.strip()
    if cell.startswith("``") and cell.endswith("``"):
        return cell[2:-2]
    return cell


def readme_entries(readme: Path) -> list[tuple[str, str, str]]:
    """
    Parse the list-table between the ``expected-differences`` comments of
    README.rst: rows of (mode, test id, reason), header row excluded.
    """
    text = readme.read_text(encoding="utf-8")
    try:
        block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    except IndexError:
        raise ValueError(f"{readme.name} has no '{BEGIN}' ... '{END}' block") from None
    rows: list[list[str]] = []
    for line in block.splitlines():
        row = _ROW.match(line)
        if row:
            rows.append([row.group("cell")])
            continue
        cell = _CELL.match(line)
        if cell and rows:
            rows[-1].append(cell.group("cell"))
        elif rows and line.strip() and not line.strip().startswith(":"):
            # A continuation line: reasons must fit on one line.
            raise ValueError(f"{readme.name}: unexpected line in the table: {line!r}")
    entries = []
    for row in rows[1:]:
        if len(row) != 3:
            raise ValueError(f"{readme.name}: table row {row!r} does not have 3 cells")
        entries.append((_literal(row[0]), _literal(row[1]), row[2].strip()))
    return entries


def consistency_problems(expected: dict[str, dict[str, str]], readme: Path) -> list[str]:
    """Every way README.rst and expected_differences.py disagree."""
    try:
        rows = readme_entries(readme)
    except (OSError, ValueError) as exc:
        return [str(exc)]
    problems = []
    in_readme = {(mode, test): reason for mode, test, reason in rows}
    if len(in_readme) != len(rows):
        problems.append(f"{readme.name} lists a (mode, test) twice")
    in_python = {
        (mode, test): reason for mode, tests in expected.items() for test, reason in tests.items()
    }
    for key in sorted(in_python.keys() - in_readme.keys()):
        problems.append(f"{key[0]} {key[1]} is in expected_differences.py but not in {readme.name}")
    for key in sorted(in_readme.keys() - in_python.keys()):
        problems.append(f"{key[0]} {key[1]} is in {readme.name} but not in expected_differences.py")
    for key in sorted(in_python.keys() & in_readme.keys()):
        if " ".join(in_python[key].split()) != " ".join(in_readme[key].split()):
            problems.append(
                f"{key[0]} {key[1]}: the reasons in {readme.name} and expected_differences.py differ"
            )
    for key, reason in in_python.items():
        if not reason.strip() or "\n" in reason.strip():
            problems.append(f"{key[0]} {key[1]}: the reason must be one non-empty line")
    return problems
