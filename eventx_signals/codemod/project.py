"""
The scanned files as one project: what a name or a dotted expression used in one file
refers to, when the scanned files define it: a signal defined in ``shop/signals.py``
and sent from ``shop/views.py`` as ``signals.order_paid`` or ``order_paid``, a receiver
function imported from another module, a model class's bases.

A file's module path is its path without ``.py`` (and without ``__init__``). An absolute
import matches every scanned module whose path ends with the imported one, so a project
under ``src/`` is found too; a relative import matches the one module it names.
"""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

from .scopes import bound_in
from .source import Source, dotted

__all__ = ["Project"]

# Re-exports followed before giving up (``from .signals import *``-free chains of imports).
_MAX_HOPS = 5


class Project:
    """The scanned files, by module path."""

    def __init__(self, sources: list[Source]) -> None:
        self.modules: dict[tuple[str, ...], Source] = {module_path(src): src for src in sources}

    def resolve(self, src: Source, expr: ast.AST, hops: int = 0) -> list[tuple[Source, ast.AST]]:
        """
        The top-level nodes binding what ``expr`` names in the scanned files, each with
        its file: for ``name = value`` the value, for a ``def`` or ``class`` the node.
        """
        if hops > _MAX_HOPS:
            return []
        if isinstance(expr, ast.Name) and expr.id not in src.bindings:
            return [(src, node) for node in bound_in(src.tree, expr.id)]
        path = dotted(expr, src.bindings)
        if path is None:
            return []
        *module, name = _absolute(src, path)
        found: list[tuple[Source, ast.AST]] = []
        for key, target in self.modules.items():
            if not module or not (key == tuple(module) or _ends_with(key, module, path)):
                continue
            nodes = bound_in(target.tree, name)
            if nodes:
                found += [(target, node) for node in nodes]
            elif name in target.bindings:  # imported there: a re-export
                found += self.resolve(target, ast.Name(id=name), hops + 1)
        return found


def module_path(src: Source) -> tuple[str, ...]:
    """``("shop", "signals")`` for ``shop/signals.py``, ``("shop",)`` for ``shop/__init__.py``."""
    parts = PurePosixPath(src.name).with_suffix("").parts
    return parts[:-1] if parts and parts[-1] == "__init__" else parts


def _absolute(src: Source, path: str) -> list[str]:
    """The parts of a dotted path, a relative one made relative to the project's root."""
    level = len(path) - len(path.lstrip("."))
    parts = path.lstrip(".").split(".")
    if not level:
        return parts
    package = list(module_path(src))
    if PurePosixPath(src.name).stem != "__init__":
        package = package[:-1]
    if level - 1 > len(package):
        return []
    return package[: len(package) - (level - 1)] + parts


def _ends_with(key: tuple[str, ...], module: list[str], path: str) -> bool:
    """Whether a module path ends with an absolutely imported one."""
    return (
        not path.startswith(".") and len(key) >= len(module) and list(key[-len(module) :]) == module
    )
