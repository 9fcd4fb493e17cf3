"""
Where receivers are connected: ``@receiver(...)`` decorators and ``.connect(...)``
calls, with the code of the function each connects when the scanned files hold it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from .project import Project
from .scopes import bound_in, enclosing, scope_of
from .source import Source, dotted
from .writes import Function

__all__ = ["RECEIVER_DECORATORS", "Site", "handler_code", "receiver_sites"]

RECEIVER_DECORATORS = frozenset(
    {"django.dispatch.receiver", "django.dispatch.dispatcher.receiver", "eventx_signals.receiver"}
)


@dataclass(frozen=True)
class Site:
    """One place that connects a receiver to one or more signals."""

    node: ast.Call  # the @receiver(...) decorator or the .connect(...) call
    handler: str  # the function's name, or the code of the expression connected
    function: ast.expr | ast.FunctionDef | ast.AsyncFunctionDef | None  # what is connected
    sender: ast.expr | None
    signals: list[ast.expr]


def receiver_sites(src: Source) -> Iterator[Site]:
    """Every @receiver(...) and .connect(...) of the file."""
    for node in src.nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                if (
                    isinstance(dec, ast.Call)
                    and dotted(dec.func, src.bindings) in RECEIVER_DECORATORS
                ):
                    keywords = {k.arg: k.value for k in dec.keywords}
                    signal = dec.args[0] if dec.args else keywords.get("signal")
                    signals = signal.elts if isinstance(signal, (ast.List, ast.Tuple)) else [signal]
                    yield Site(
                        dec, node.name, node, keywords.get("sender"), [s for s in signals if s]
                    )
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr != "connect":
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            handler = node.args[0] if node.args else keywords.get("receiver")
            sender = node.args[1] if len(node.args) > 1 else keywords.get("sender")
            name = ast.unparse(handler) if handler else "?"
            yield Site(node, name, handler, sender, [node.func.value])


def handler_code(src: Source, project: Project, site: Site) -> Function | None:
    """
    The function a site connects: the decorated one, a lambda, a function found by its
    name (in the scope of the call, the file, or the module it is imported from), or a
    method of the class around the call (``self.on_save``).
    """
    function = site.function
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return function
    if function is None:
        return None
    found: list[ast.AST] = []
    if isinstance(function, ast.Name):
        found = bound_in(scope_of(src, site.node), function.id)
    elif isinstance(function, ast.Attribute) and getattr(function.value, "id", "") in (
        "self",
        "cls",
    ):
        cls = enclosing(src, site.node, ast.ClassDef)
        found = bound_in(cls, function.attr) if isinstance(cls, ast.ClassDef) else []
    found = found or [node for _, node in project.resolve(src, function)]
    for node in found:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return node
    return None
