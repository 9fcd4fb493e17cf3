"""
The edits that turn ``django.dispatch.Signal(...)`` calls into ``AsyncSignal(...)``.

Only the tokens that must change are edited: each call's callee becomes ``AsyncSignal``
(or the name it is already imported as); the imported names that only those calls used
are removed, with their comma, or with their line when nothing else is on it; and
``AsyncSignal`` is imported in place of an import left empty, else on the line after the
last import that led to ``Signal``. Subclasses of ``Signal`` are left unchanged, with a note,
and so are the calls the review keeps (``signal_review``): their imports stay.
"""

from __future__ import annotations

import ast
from collections.abc import Container

from .source import Diagnostic, Edit, Located, Source, dotted, imports

SIGNAL_CLASSES = frozenset({"django.dispatch.Signal", "django.dispatch.dispatcher.Signal"})
ASYNC_SIGNAL = "eventx_signals.AsyncSignal"
ASYNC_SIGNAL_IMPORT = "from eventx_signals import AsyncSignal"


def signal_edits(src: Source, out: list[Diagnostic], kept: Container[ast.AST] = ()) -> list[Edit]:
    """Edits turning Signal(...) calls, but those ``kept``, into AsyncSignal(...), and the imports."""
    calls: list[ast.Call] = []
    for node in src.nodes:
        if isinstance(node, ast.Call) and dotted(node.func, src.bindings) in SIGNAL_CLASSES:
            if node not in kept:
                calls.append(node)
        elif isinstance(node, ast.ClassDef) and any(
            dotted(base, src.bindings) in SIGNAL_CLASSES for base in node.bases
        ):
            message = (
                f"note: class {node.name} subclasses django.dispatch.Signal and was left "
                "unchanged: subclassing needs review (derive from AsyncSignal if its "
                "receivers may run in the background)"
            )
            out.append(src.diagnostic(node, message))
    if not calls:
        return []
    async_name = next((bound for bound, path in src.bindings.items() if path == ASYNC_SIGNAL), None)
    edits = [(*src.span(call.func), async_name or "AsyncSignal") for call in calls]
    return edits + _import_edits(src, calls, add_import=async_name is None)


def _import_edits(src: Source, calls: list[ast.Call], *, add_import: bool) -> list[Edit]:
    """Drop the imported names that only the replaced calls used; import AsyncSignal."""
    replaced = {n: n.id for call in calls for n in ast.walk(call.func) if isinstance(n, ast.Name)}
    used = {n.id for n in src.nodes if isinstance(n, ast.Name) and n not in replaced}
    used |= _dunder_all(src.tree)
    roots = set(replaced.values())
    stale: dict[ast.Import | ast.ImportFrom, list[ast.alias]] = {}
    for stmt, alias, bound, target in imports(src.nodes):
        leads_to_signal = any(f"{cls}.".startswith(f"{target}.") for cls in SIGNAL_CLASSES)
        if bound in roots and leads_to_signal:
            stale.setdefault(stmt, []).extend([alias] if bound not in used else [])
    unused = sorted((s for s, names in stale.items() if len(names) == len(s.names)), key=_position)
    edits: list[Edit] = []
    if add_import and unused:  # the old import becomes the new one, in place
        edits.append((*src.span(unused.pop(0)), ASYNC_SIGNAL_IMPORT))
    elif add_import and stale:  # the new import goes on the line after the last old one
        start, end = src.span(max(stale, key=_position))
        line_start = src.line_start(start)
        indent = src.text[line_start : _blanks_end(src.text, line_start)]
        at = src.next_line(end - 1)
        if src.text[:at].endswith(("\n", "\r")):
            edits.append((at, at, f"{indent}{ASYNC_SIGNAL_IMPORT}{src.newline}"))
        else:  # the last line of the file, without a newline
            edits.append((at, at, f"{src.newline}{indent}{ASYNC_SIGNAL_IMPORT}"))
    deleted: list[ast.stmt] = []
    for stmt in unused:  # deleted if on lines of its own, and if its block keeps a statement
        lines = src.whole_lines(*src.span(stmt))
        if lines and any(s is not stmt and s not in deleted for s in _block_of(stmt, src.parents)):
            deleted.append(stmt)
            edits.append((*lines, ""))
    for stmt, names in stale.items():
        if names and len(names) < len(stmt.names):
            edits += _alias_deletions(src, stmt, names)
    return edits


def _block_of(stmt: ast.stmt, parents: dict[ast.AST, ast.AST]) -> list[ast.stmt]:
    """The statements of the block (body, else or finally) that holds ``stmt``."""
    for field in ("body", "orelse", "finalbody"):
        block: list[ast.stmt] = getattr(parents[stmt], field, [])
        if stmt in block:
            return block
    return []


def _alias_deletions(
    src: Source, stmt: ast.Import | ast.ImportFrom, stale: list[ast.alias]
) -> list[Edit]:
    """Remove some names from an import statement, with their commas (and lines, if alone)."""
    stmt_start, stmt_end = src.span(stmt)
    tokens = [token for token in src.tokens if token[0] >= stmt_start]
    parenthesised = any(string == "(" and start < stmt_end for start, _, string in tokens)
    spans: list[tuple[int, int]] = []
    for alias in stale:
        start, end = src.span(alias)
        _, after, string = next(token for token in tokens if token[0] >= end)
        lines = src.whole_lines(start, after if string == "," else end)
        if parenthesised and lines:
            spans.append(lines)
        elif string == ",":
            spans.append((start, _blanks_end(src.text, after)))
        else:  # the last name goes with the comma after the name kept before it
            kept = [a for a in stmt.names if a not in stale and _position(a) < _position(alias)]
            spans.append((src.span(kept[-1])[1], end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [(start, end, "") for start, end in merged]


def _dunder_all(tree: ast.Module) -> set[str]:
    """The names listed in ``__all__``: a re-exported import stays."""
    for node in tree.body:
        targets = getattr(node, "targets", [])
        if isinstance(node, ast.Assign) and "__all__" in {getattr(t, "id", "") for t in targets}:
            elements = getattr(node.value, "elts", [])
            return {e.value for e in elements if isinstance(getattr(e, "value", None), str)}
    return set()


def _blanks_end(text: str, offset: int) -> int:
    """The offset after the spaces and tabs found at ``offset``."""
    while offset < len(text) and text[offset] in " \t":
        offset += 1
    return offset


def _position(node: Located) -> tuple[int, int]:
    return node.lineno, node.col_offset
