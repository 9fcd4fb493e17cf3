"""
The places that send a signal, and what each tells about making it asynchronous.

A ``send()`` (``send_robust()``, ``asend()``, ``asend_robust()``) is traced to the
``Signal()`` it sends through the imports of its file (``order_paid.send``,
``signals.order_paid.send``), loops over literals, and class attributes
(``self.view_signal.send`` with ``view_signal = order_placed`` in the class, or in
another class of the file: a mixin's).

A send site needs review when:

- it passes an argument that cannot be snapshotted or sent to another thread or process,
  known by its name or by the name of what it passes (``request=request``,
  ``data=self.request.session``, ``upload=request.FILES["cv"]``; the names are those of
  ``LIVE_ARGUMENTS``), or ``self`` of a class that is not a model (``view=self``,
  ``sender=self`` in a view): receivers in the background would use the live object
  after the caller has moved on, from another thread;
- it uses the value of ``send()`` (``send_values``): the receivers' return values;
- it calls ``send()`` or ``asend()`` inside a ``try`` with an ``except``: receivers may
  veto by raising, which no longer reaches the caller.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .project import Project
from .review import Reason
from .scopes import bound_in, enclosing, loop_values
from .send_values import SEND_METHODS, value_use
from .source import Source, dotted

__all__ = ["LIVE_ARGUMENTS", "send_calls", "signal_nodes", "site_reasons"]

# Argument names (and names of what is passed) that stand for live objects; a name
# ending in "_" and one of them counts too ("uploaded_file", "http_request").
LIVE_ARGUMENTS = frozenset(
    {
        "request",
        "response",
        "view",
        "session",
        "form",
        "formset",
        "file",
        "files",
        "upload",
        "stream",
    }
)
MODEL_CLASSES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
_MAX_DEPTH = 5  # class attributes naming class attributes, bases of bases


def send_calls(src: Source) -> Iterator[tuple[ast.Call, ast.expr]]:
    """(call, ``x``) of every ``x.send(...)``, ``x.send_robust(...)``, ``x.asend(...)``..."""
    for node in src.nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SEND_METHODS
        ):
            yield node, node.func.value


def signal_nodes(
    src: Source, project: Project, expr: ast.expr, depth: int = 0
) -> list[tuple[Source, ast.AST]]:
    """The top-level nodes (each with its file) that the signal ``expr`` may be bound to."""
    found: list[tuple[Source, ast.AST]] = []
    for value in loop_values(src, expr) or []:
        if (
            isinstance(value, ast.Attribute)
            and isinstance(value.value, ast.Name)
            and value.value.id in ("self", "cls")
            and depth < _MAX_DEPTH
        ):
            for node in _class_attribute(src, value):
                if isinstance(node, ast.expr):
                    found += signal_nodes(src, project, node, depth + 1)
        else:
            found += project.resolve(src, value)
    return found


def site_reasons(src: Source, project: Project, call: ast.Call) -> list[Reason]:
    """What the send ``call`` tells about making its signal asynchronous."""
    where = f"{src.name}:{call.lineno}"
    method = getattr(call.func, "attr", "send")
    reasons: list[Reason] = []
    arguments = [("sender", call.args[0])] if call.args else []
    arguments += [(k.arg, k.value) for k in call.keywords if k.arg is not None]
    for name, value in arguments:
        if (live := _live(src, project, name, value)) is not None:
            reasons.append(
                Reason(
                    f"{name}={ast.unparse(value)}{live}",
                    where,
                    ": live objects, which cannot be snapshotted or sent to another process; "
                    "in the background, receivers would use them from another thread, after the "
                    "caller has moved on",
                    lead="sent with ",
                )
            )
    if value_use(src, call):
        reasons.append(
            Reason(
                "its caller uses the value of send()",
                where,
                ": it will hold (receiver, Future) pairs, not the receivers' return values",
            )
        )
    if method in ("send", "asend") and _in_try(src, call):
        reasons.append(
            Reason(
                f"its caller catches exceptions from {method}()",
                where,
                ": a receiver may veto by raising, which in the background no longer "
                "reaches the caller",
            )
        )
    return reasons


def _live(src: Source, project: Project, name: str, value: ast.expr) -> str | None:
    """
    None if an argument passes no live object; else "", or what ``self`` is when it
    passes ``self`` (" (this PaymentView)").
    """
    if isinstance(value, ast.Constant):
        return None
    if isinstance(value, ast.Name) and value.id == "self":
        cls = enclosing(src, value, ast.ClassDef)
        if isinstance(cls, ast.ClassDef) and not _is_model(src, project, cls):
            return f" (this {cls.name})"
        return None
    while isinstance(value, ast.Subscript):
        value = value.value
    passed = getattr(value, "id", getattr(value, "attr", ""))
    return "" if _live_name(name) or _live_name(passed) else None


def _live_name(name: str) -> bool:
    name = name.lower()
    return name in LIVE_ARGUMENTS or any(name.endswith(f"_{key}") for key in LIVE_ARGUMENTS)


def _is_model(src: Source, project: Project, cls: ast.ClassDef, depth: int = 0) -> bool:
    """Whether a class is a Django model, as far as its bases in the scanned files tell."""
    for base in cls.bases:
        if dotted(base, src.bindings) in MODEL_CLASSES:
            return True
        if depth < _MAX_DEPTH:
            for base_src, node in project.resolve(src, base):
                if isinstance(node, ast.ClassDef) and _is_model(base_src, project, node, depth + 1):
                    return True
    return False


def _class_attribute(src: Source, attribute: ast.Attribute) -> list[ast.AST]:
    """What ``self.<name>`` is bound to in a class body: the enclosing class's, else another's."""
    cls = enclosing(src, attribute, ast.ClassDef)
    if isinstance(cls, ast.ClassDef) and (found := bound_in(cls, attribute.attr)):
        return found
    classes = [node for node in src.nodes if isinstance(node, ast.ClassDef) and node is not cls]
    return [node for other in classes for node in bound_in(other, attribute.attr)]


def _in_try(src: Source, call: ast.Call) -> bool:
    """Whether ``call`` is in the body of a ``try`` with handlers, in its own function."""
    child: ast.AST = call
    parent = src.parents.get(call)
    while parent is not None and not isinstance(
        parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
    ):
        if isinstance(parent, ast.Try) and parent.handlers and child in parent.body:
            return True
        child, parent = parent, src.parents.get(parent)
    return False
