"""
Warnings where the value of a signal's ``send()``, ``send_robust()``, ``asend()`` or
``asend_robust()`` is used rather than discarded: with django-eventx it holds
``(receiver, Future)`` pairs instead of the receivers' return values.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .builtin_signals import MAY_BECOME_ASYNCHRONOUS, MUST_STAY_SYNCHRONOUS
from .signal_definitions import ASYNC_SIGNAL, SIGNAL_CLASSES
from .source import Diagnostic, Source, dotted

SEND_METHODS = frozenset({"send", "send_robust", "asend", "asend_robust"})

# How the value of send() is used, by the kind of node holding the call.
_USES: list[tuple[type[ast.AST] | tuple[type[ast.AST], ...], str]] = [
    ((ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr), "is assigned"),
    (ast.Return, "is returned"),
    ((ast.For, ast.AsyncFor), "is iterated"),
    ((ast.comprehension, ast.ListComp, ast.SetComp, ast.DictComp), "is used in a comprehension"),
    (ast.GeneratorExp, "is used in a comprehension"),
    (ast.Subscript, "is indexed"),
    (ast.Call, "is passed as an argument"),
    ((ast.If, ast.While, ast.IfExp, ast.Assert, ast.BoolOp, ast.UnaryOp), "is tested"),
]


def signal_names(sources: list[Source]) -> set[str]:
    """
    Names that hold signals, to recognise their send() calls: those of the built-in
    signals, and those the scanned files assign a Signal() or AsyncSignal() to.
    """
    names = {path.rpartition(".")[2] for path in (*MAY_BECOME_ASYNCHRONOUS, *MUST_STAY_SYNCHRONOUS)}
    for src in sources:
        for node in src.nodes:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and dotted(node.value.func, src.bindings) in SIGNAL_CLASSES | {ASYNC_SIGNAL}
            ):
                names |= {getattr(t, "id", getattr(t, "attr", "")) for t in node.targets}
    return names


def send_value_uses(src: Source, signal_names: set[str]) -> Iterator[Diagnostic]:
    """Warn where the value of a signal's send()/asend() is used rather than discarded."""
    for call in src.nodes:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        if call.func.attr not in SEND_METHODS:
            continue
        target = call.func.value
        name = getattr(target, "id", getattr(target, "attr", ""))
        signal_like = name in signal_names or "signal" in name.lower()
        if not (signal_like or any(keyword.arg == "sender" for keyword in call.keywords)):
            continue
        if how := value_use(src, call):
            yield src.diagnostic(
                call,
                f"warning: the value of {ast.unparse(call.func)}() {how}: it now holds "
                "(receiver, Future) pairs; call future.result() to get the value",
            )


def value_use(src: Source, call: ast.Call) -> str | None:
    """How the value of a call is used ("is assigned"...), or None if it is discarded."""
    parents = src.parents
    node = parents[call] if isinstance(parents[call], ast.Await) else call
    parent = parents[node]
    if isinstance(parent, (ast.keyword, ast.Starred)):
        node, parent = parent, parents[parent]
    if isinstance(parent, ast.Expr):
        return None
    how = "is used"
    if not isinstance(parent, ast.Subscript) or parent.value is node:
        how = next((how for types, how in _USES if isinstance(parent, types)), how)
    return how
