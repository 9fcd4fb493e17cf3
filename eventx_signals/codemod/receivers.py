"""
Receivers of Django's built-in signals, each with the model labels of its senders and
what makes it need review before its signal runs it in the background.

Those of model signals worth making asynchronous are returned for the proposed
``EVENTX_ASYNC_SIGNALS`` (``settings_snippet``); those of signals that must stay
synchronous get a note. Senders are resolved through loops over literals
(``for model in [Article, Page]: post_delete.connect(h, sender=model)``), as
the signals of ``for signal in (post_save, post_delete): signal.connect(h)`` are.

A receiver needs review when:

- it receives ``pre_save`` or ``pre_delete``: it runs before the change, and would run
  after it in the background, unable to change or veto it;
- it handles the ``pre_add``, ``pre_remove`` or ``pre_clear`` action of ``m2m_changed``
  (it compares ``action`` with one of them);
- it writes to what it is sent (``writes``), such as ``instance.slug = ...``;
- its code was not found in the scanned files, so none of that could be checked;
- its sender is not known from the code (it takes any sender, or an expression that does
  not name a model plainly): the setting cannot name it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .builtin_signals import MAY_BECOME_ASYNCHRONOUS, MUST_STAY_SYNCHRONOUS, SIGNAL_ALIASES
from .model_labels import Label, sender_label
from .project import Project
from .receiver_sites import handler_code, receiver_sites
from .review import Reason
from .scopes import loop_values
from .source import Diagnostic, Source, dotted
from .writes import Function, writes_reason

__all__ = ["SENDER_NOT_KNOWN", "Receiver", "find_receivers"]

SENDER_NOT_KNOWN = Reason(
    "sender not known from the code: add its model labels by hand, or pass --all-senders"
)
M2M_PRE_ACTIONS = ("pre_add", "pre_remove", "pre_clear")


@dataclass(frozen=True)
class Receiver:
    """A receiver of a model signal that the proposed setting could make asynchronous."""

    signal: str
    senders: tuple[Label, ...]  # the model labels of the senders known from the code
    any_sender: bool  # it takes any sender, or one the code does not name plainly
    name: str  # its file
    line: int
    handler: str
    reasons: tuple[Reason, ...]  # why it needs review, its sender aside

    @property
    def where(self) -> str:
        return f"{self.name}:{self.line} {self.handler}"


def find_receivers(
    src: Source, project: Project, app_labels: dict[Path, str], out: list[Diagnostic]
) -> list[Receiver]:
    """Receivers of built-in model signals; notes for those of signals that stay synchronous."""
    receivers: list[Receiver] = []
    for site in receiver_sites(src):
        signals = [value for node in site.signals for value in (loop_values(src, node) or [node])]
        for node in signals:
            path = dotted(node, src.bindings) or ""
            signal = SIGNAL_ALIASES.get(path, path)
            short = signal.rpartition(".")[2]
            if signal in MUST_STAY_SYNCHRONOUS:
                reason = MUST_STAY_SYNCHRONOUS[signal]
                message = f"note: {site.handler} receives {short}, left synchronous: {reason}"
                out.append(src.diagnostic(site.node, message))
            elif signal in MAY_BECOME_ASYNCHRONOUS:
                senders, any_sender = _senders(src, site.sender, app_labels)
                reasons = _reasons(short, handler_code(src, project, site))
                line = site.node.lineno
                receivers.append(
                    Receiver(signal, senders, any_sender, src.name, line, site.handler, reasons)
                )
    return receivers


def _senders(
    src: Source, sender: ast.expr | None, app_labels: dict[Path, str]
) -> tuple[tuple[Label, ...], bool]:
    """The labels of the senders known from the code, and whether some are not known."""
    if sender is None:
        return (), True
    values = loop_values(src, sender)
    if values is None:
        return (), True
    labels = [sender_label(src, value, app_labels) for value in values]
    known = tuple(sorted({label for label in labels if label is not None}))
    return known, None in labels


def _reasons(short: str, function: Function | None) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if short.startswith("pre_"):
        reasons.append(
            Reason(
                f"{short} receivers run before the {short[4:]}",
                why=": in the background this one would run after it, unable to change or veto it",
            )
        )
    if function is None:
        return (
            *reasons,
            Reason(
                "its code was not found in the scanned files",
                why=": check that it does not write to what it is sent",
            ),
        )
    if short == "m2m_changed":
        body = [node for node in ast.walk(function) if isinstance(node, ast.Constant)]
        actions = sorted({node.value for node in body if node.value in M2M_PRE_ACTIONS})
        if actions:
            reasons.append(
                Reason(
                    f"it handles the {', '.join(actions)} action of m2m_changed",
                    why=", sent before the change: in the background it would run after it",
                )
            )
    if reason := writes_reason(function):
        reasons.append(reason)
    return tuple(reasons)
