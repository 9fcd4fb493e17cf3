"""
Receivers of Django's built-in signals, found in ``@receiver(...)`` decorators and
``.connect(...)`` calls.

Those of model signals worth making asynchronous are returned for the proposed
``EVENTX_ASYNC_SIGNALS`` (``settings_snippet``), with a warning for
``pre_save``/``pre_delete``; those of signals that must stay synchronous get a note.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .builtin_signals import MAY_BECOME_ASYNCHRONOUS, MUST_STAY_SYNCHRONOUS, SIGNAL_ALIASES
from .model_labels import Label, sender_label
from .source import Diagnostic, Source, dotted

RECEIVER_DECORATORS = frozenset(
    {"django.dispatch.receiver", "django.dispatch.dispatcher.receiver", "eventx_signals.receiver"}
)


@dataclass(frozen=True)
class Receiver:
    """A receiver of a model signal that the proposed setting makes asynchronous."""

    signal: str
    sender: Label | None  # None: any sender, or one the code does not name plainly
    where: str


def find_receivers(
    src: Source, app_labels: dict[Path, str], out: list[Diagnostic]
) -> list[Receiver]:
    """Receivers of built-in signals; notes for those that stay synchronous or are pre_*."""
    receivers: list[Receiver] = []
    for call, handler, sender, signals in _receiver_sites(src):
        for node in signals:
            path = dotted(node, src.bindings) or ""
            signal = SIGNAL_ALIASES.get(path, path)
            short = signal.rpartition(".")[2]
            if signal in MUST_STAY_SYNCHRONOUS:
                reason = MUST_STAY_SYNCHRONOUS[signal]
                out.append(
                    src.diagnostic(
                        call, f"note: {handler} receives {short}, left synchronous: {reason}"
                    )
                )
            elif signal in MAY_BECOME_ASYNCHRONOUS:
                if caveat := MAY_BECOME_ASYNCHRONOUS[signal]:
                    message = (
                        f"warning: {handler} receives {short}; once {short} is async, {caveat}"
                    )
                    out.append(src.diagnostic(call, message))
                label = None if sender is None else sender_label(src, sender, app_labels)
                receivers.append(Receiver(signal, label, f"{src.name}:{call.lineno} {handler}"))
    return receivers


def _receiver_sites(
    src: Source,
) -> Iterator[tuple[ast.Call, str, ast.expr | None, list[ast.expr]]]:
    """Yield (call, handler, sender, signals) for each @receiver(...) and .connect(...)."""
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
                    yield dec, node.name, keywords.get("sender"), [s for s in signals if s]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr != "connect":
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            handler = node.args[0] if node.args else keywords.get("receiver")
            sender = node.args[1] if len(node.args) > 1 else keywords.get("sender")
            yield node, ast.unparse(handler) if handler else "?", sender, [node.func.value]
