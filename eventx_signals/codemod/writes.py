"""
What a receiver's code writes to the arguments it is sent, as its syntax tree shows.

Inline, such a write is seen by the caller as soon as ``send()`` returns: a ``pre_save``
receiver that sets ``instance.slug``, a receiver that marks ``request.session``. In the
background it happens after the caller has moved on, and a model instance is a copy
made at send time, so the caller never sees it. A write is, on any parameter but
``sender`` (and on ``kwargs["name"]`` of the ``**`` parameter), or on a name assigned
from one (``offer = instance``, ``order = instance.order``):

- an assignment, augmented assignment or ``del`` of one of its attributes or items,
  at any depth (``instance.slug = ...``, ``request.session["seen"] = ...``,
  ``kwargs["instance"].total += 1``);
- ``setattr()`` or ``delattr()`` on it;
- a call of its own ``save()``, ``delete()`` or ``refresh_from_db()``.

Other calls are not followed (``instance.order.save()``, ``instance.recount()``): what
they change is not in the receiver's code.
"""

from __future__ import annotations

import ast

from .review import Reason

__all__ = ["Function", "writes", "writes_reason"]

Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
WRITING_METHODS = frozenset({"save", "delete", "refresh_from_db"})
NOT_WATCHED = frozenset({"sender", "signal", "self", "cls"})


def writes(function: Function) -> list[tuple[int, str]]:
    """(line, code) of each write to an argument, in the order of the code."""
    args = function.args
    params = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    watched = {name: 0 for name in params if name not in NOT_WATCHED}  # name -> its depth
    spread = args.kwarg.arg if args.kwarg else None
    body = function.body if isinstance(function.body, list) else [function.body]
    nodes = [node for statement in body for node in ast.walk(statement)]
    for node in nodes:  # aliases: offer = instance (depth 0), order = instance.order (1)
        if isinstance(node, ast.Assign):
            depth = _argument(node.value, watched, spread)
            if depth is not None:
                watched |= {t.id: depth for t in node.targets if isinstance(t, ast.Name)}
    found: list[tuple[int, str]] = []
    for node in nodes:
        for target in _targets(node):  # an attribute or item, not a name (re)bound
            if (
                isinstance(target, (ast.Attribute, ast.Subscript))
                and not _spread_item(target, spread)
                and _argument(target, watched, spread) is not None
            ):
                found.append((target.lineno, _code(node, target)))
        if isinstance(node, ast.Call) and _writing_call(node, watched, spread):
            found.append((node.lineno, f"{ast.unparse(node.func)}()"))
    return sorted(set(found))


def writes_reason(function: Function, at: str = "") -> Reason | None:
    """The reason a function that writes to its arguments needs review, if it does."""
    found = writes(function)
    if not found:
        return None
    code = ", ".join(f"{what} (line {line})" for line, what in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return Reason(
        f"{at or 'it'} writes to what it is sent: {code}{more}",
        why=", which in the background lands after the caller has moved on, on a copy "
        "for a model instance",
    )


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, (ast.Assign, ast.Delete)):
        return node.targets
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    return []


def _code(node: ast.AST, target: ast.expr) -> str:
    """How a write reads: ``instance.slug = ...``, ``order.total += ...``, ``del x.y``."""
    if isinstance(node, ast.Delete):
        return f"del {ast.unparse(target)}"
    if isinstance(node, ast.AugAssign):
        return f"{ast.unparse(target)} {_OPERATORS.get(type(node.op), '?')}= ..."
    return f"{ast.unparse(target)} = ..."


def _argument(expr: ast.expr, watched: dict[str, int], spread: str | None) -> int | None:
    """
    How deep in an argument ``expr`` reaches: 0 for the argument itself, 1 for one of
    its attributes or items, and so on; None if it is not rooted at an argument.
    """
    depth = 0
    while isinstance(expr, (ast.Attribute, ast.Subscript)) and not _spread_item(expr, spread):
        expr, depth = expr.value, depth + 1
    if _spread_item(expr, spread):
        return depth
    if isinstance(expr, ast.Name) and expr.id in watched:
        return depth + watched[expr.id]
    return None


def _spread_item(expr: ast.expr, spread: str | None) -> bool:
    """``kwargs["instance"]`` or ``kwargs.get("instance")`` of the ``**kwargs`` parameter."""
    if spread is None:
        return False
    if isinstance(expr, ast.Subscript):
        return getattr(expr.value, "id", None) == spread and isinstance(expr.slice, ast.Constant)
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and getattr(expr.func.value, "id", None) == spread
    )


def _writing_call(call: ast.Call, watched: dict[str, int], spread: str | None) -> bool:
    """``setattr(instance, ...)``, ``instance.save()``... on an argument itself."""
    func = call.func
    if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and call.args:
        return _argument(call.args[0], watched, spread) is not None
    return (
        isinstance(func, ast.Attribute)
        and func.attr in WRITING_METHODS
        and _argument(func.value, watched, spread) == 0
    )


_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.MatMult: "@",
}
