"""Human-readable names of signals, senders and receivers, for logs and tools."""

from __future__ import annotations

import sys
from typing import Any


def receiver_label(receiver: Any) -> str:
    """Return the dotted path of a receiver function or method."""
    func = getattr(receiver, "__func__", receiver)
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if module and qualname:
        return f"{module}.{qualname}"
    return repr(receiver)


def sender_label(sender: Any) -> str:
    """Return a model label, a class path or the repr of a sender."""
    meta = getattr(sender, "_meta", None)
    if isinstance(sender, type) and meta is not None:
        return str(meta.label)
    if isinstance(sender, type):
        return f"{sender.__module__}.{sender.__qualname__}"
    return repr(sender)


def signal_label(signal: Any) -> str:
    """
    Return the name a signal is known by: its event name, or the dotted path
    of the module attribute that holds it (found once, then remembered).
    """
    label = getattr(signal, "eventx_label", None)
    if label:
        return str(label)
    label = _find_module_attribute(signal, getattr(signal, "eventx_module", None))
    label = label or repr(signal)
    try:
        signal.eventx_label = label
    except AttributeError:
        pass
    return label


def _find_module_attribute(obj: Any, defining_module: str | None) -> str | None:
    """
    Find a module attribute holding ``obj``. Modules that import a signal
    hold it too, so prefer the module it was defined in when known, then
    modules named ``*signals``, and ``__main__`` last.
    """
    found = []
    # Copy the mapping first: other threads may import modules meanwhile.
    for module_name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attribute, value in list(namespace.items()):
            if value is obj:
                found.append((module_name, attribute))
    if not found:
        return None

    def preference(item: tuple[str, str]) -> tuple[int, int]:
        module_name = item[0]
        if module_name == defining_module:
            return (0, 0)
        if module_name == "__main__":
            return (3, 0)
        return (1 if module_name.endswith("signals") else 2, len(module_name))

    module_name, attribute = min(found, key=preference)
    return f"{module_name}.{attribute}"
