"""
Where the names of one file are bound, as far as that file tells: the scope (module,
class, function or lambda) a node sits in, the nodes that bind a name in a scope, and
the values a loop variable takes when it iterates over a literal list, tuple or set,
written in place or bound to a name first::

    for model in [Article, Page]:                 # model: Article, then Page
        post_delete.connect(handler, sender=model)

    PUBLISHED = (Article, Page)
    for model in PUBLISHED: ...                   # the same

Nothing is guessed: a name bound to anything else, or changed after it is bound
(``+=``, ``.append()``...), has no known values.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .source import Source

__all__ = ["Scope", "bound_in", "enclosing", "loop_values", "scope_nodes", "scope_of"]

Scope = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
SCOPES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
# Methods that change a list, set or dict in place: a name they are called on has no known values.
_MUTATORS = frozenset({"append", "extend", "insert", "add", "update", "remove", "pop", "clear"})


def enclosing(
    src: Source, node: ast.AST, kind: type[ast.AST] | tuple[type[ast.AST], ...]
) -> ast.AST | None:
    """The nearest node of ``kind`` that holds ``node``."""
    parent = src.parents.get(node)
    while parent is not None and not isinstance(parent, kind):
        parent = src.parents.get(parent)
    return parent


def scope_of(src: Source, node: ast.AST) -> Scope:
    """The module, class, function or lambda whose names ``node`` sees first."""
    scope = enclosing(src, node, SCOPES)
    assert isinstance(scope, SCOPES)  # the module holds every node
    return scope


def scope_nodes(scope: Scope) -> Iterator[ast.AST]:
    """The nodes of a scope's own code: nested functions and classes, not their bodies."""
    todo: list[ast.AST] = list(
        reversed(scope.body if isinstance(scope.body, list) else [scope.body])
    )
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, SCOPES):
            todo.extend(reversed(list(ast.iter_child_nodes(node))))


def bound_in(scope: Scope, name: str) -> list[ast.AST]:
    """
    What binds ``name`` in a scope: the value of each plain assignment (``name = value``),
    or the function or class defined under that name.
    """
    found: list[ast.AST] = []
    for node in scope_nodes(scope):
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found.append(node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name) and node.target.id == name:
                found.append(node.value)
        elif (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.name == name
        ):
            found.append(node)
    return found


def loop_values(src: Source, expr: ast.expr) -> list[ast.expr] | None:
    """
    The expressions ``expr`` stands for: the elements of the literal a loop variable
    iterates over, else ``expr`` itself; None for a loop variable whose values are unknown.
    """
    if not isinstance(expr, ast.Name):
        return [expr]
    child: ast.AST = expr
    parent = src.parents.get(expr)
    while parent is not None and not isinstance(parent, SCOPES):
        if (
            isinstance(parent, (ast.For, ast.AsyncFor))
            and child in parent.body
            and isinstance(parent.target, ast.Name)
            and parent.target.id == expr.id
        ):
            return _elements(src, parent.iter)
        if isinstance(parent, _COMPREHENSIONS):
            for generator in parent.generators:
                if isinstance(generator.target, ast.Name) and generator.target.id == expr.id:
                    return _elements(src, generator.iter)
        child, parent = parent, src.parents.get(parent)
    return [expr]


def _elements(src: Source, iterable: ast.expr) -> list[ast.expr] | None:
    """The elements of a literal list, tuple or set, or of the one a name is bound to."""
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):
        if any(isinstance(element, ast.Starred) for element in iterable.elts):
            return None
        return list(iterable.elts)
    if not isinstance(iterable, ast.Name) or _changed(src, iterable.id):
        return None
    scope = scope_of(src, iterable)
    values = bound_in(scope, iterable.id) or bound_in(src.tree, iterable.id)
    elements: list[ast.expr] = []
    for value in values:
        if not isinstance(value, (ast.List, ast.Tuple, ast.Set)):
            return None
        found = _elements(src, value)
        if found is None:
            return None
        elements += found
    return elements or None


def _changed(src: Source, name: str) -> bool:
    """Whether the file changes what ``name`` holds other than by assigning it."""
    for node in src.nodes:
        if isinstance(node, ast.AugAssign) and getattr(node.target, "id", None) == name:
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MUTATORS
            and getattr(node.func.value, "id", None) == name
        ):
            return True
    return False
