"""
Which ``Signal()`` definitions are safe to make asynchronous, and the reasons the
others need review, from everything the scanned files show of each signal:

- its name: a ``pre_*`` signal is sent before the action it names, and its receivers
  may be expected to finish, change or veto it first;
- its send sites (``send_sites``): live arguments, the value of ``send()`` used,
  exceptions of ``send()`` caught;
- its receivers (``receiver_sites``): one that writes to what it is sent (``writes``).

A signal that none of these apply to is safe: the codemod converts it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .project import Project
from .receiver_sites import handler_code, receiver_sites
from .review import Reason
from .send_sites import send_calls, signal_nodes, site_reasons
from .signal_definitions import SIGNAL_CLASSES
from .source import Source, dotted
from .writes import writes_reason

__all__ = ["Definition", "review_signals"]

PRE_SIGNAL = Reason(
    "its name starts with pre_",
    why=": it is sent before the action it names, and its receivers may be expected to "
    "finish, change or veto it first",
)


@dataclass
class Definition:
    """One ``Signal(...)`` call of the scanned files."""

    src: Source
    call: ast.Call
    name: str  # what it is assigned to: "order_paid", "Checkout.paid"; else "Signal()"
    reasons: list[Reason] = field(default_factory=list)


def review_signals(sources: list[Source], project: Project) -> list[Definition]:
    """Every Signal() definition, with the reasons it needs review (none: safe)."""
    definitions = {
        node: Definition(src, node, _name(src, node))
        for src in sources
        for node in src.nodes
        if isinstance(node, ast.Call) and dotted(node.func, src.bindings) in SIGNAL_CLASSES
    }
    for definition in definitions.values():
        if definition.name.rpartition(".")[2].startswith("pre_"):
            definition.reasons.append(PRE_SIGNAL)
    for src in sources:
        for call, signal in send_calls(src):
            found = _definitions(src, project, signal, definitions)
            if found:
                reasons = site_reasons(src, project, call)
                for definition in found:
                    definition.reasons += reasons
        for site in receiver_sites(src):
            found = [
                definition
                for signal in site.signals
                for definition in _definitions(src, project, signal, definitions)
            ]
            function = handler_code(src, project, site) if found else None
            receiver = f"its receiver {site.handler} at {src.name}:{site.node.lineno}"
            reason = writes_reason(function, receiver) if function else None
            for definition in found:
                if reason:
                    definition.reasons.append(reason)
    return list(definitions.values())


def _definitions(
    src: Source, project: Project, expr: ast.expr, definitions: dict[ast.Call, Definition]
) -> list[Definition]:
    found = [definitions.get(node) for _, node in signal_nodes(src, project, expr)]  # type: ignore[call-overload]
    return list({id(d): d for d in found if d is not None}.values())


def _name(src: Source, call: ast.Call) -> str:
    """The name a Signal() call is assigned to, prefixed by its class's in a class body."""
    assignment = src.parents.get(call)
    if not isinstance(assignment, (ast.Assign, ast.AnnAssign)):
        return "Signal()"
    targets = assignment.targets if isinstance(assignment, ast.Assign) else [assignment.target]
    name = ast.unparse(targets[0])
    owner = src.parents.get(assignment)
    return f"{owner.name}.{name}" if isinstance(owner, ast.ClassDef) else name
