"""
Model labels (``"app_label.Model"``) for the senders named in receivers' code.

The scanned files tell which directories are Django apps and what their labels are; a
sender expression is then resolved through the imports of its file to a model of one of
those apps, of ``django.contrib``, or to a guess that the printed snippet asks to confirm.
A model looked up by its label (``Category = apps.get_model("catalogue", "Category")``,
or any function named ``get_model`` called with string literals) has that label.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .scopes import bound_in, scope_of
from .source import Source, dotted

Label = tuple[str, str]  # "app_label.Model" (or a guess), and a comment asking to check it

_UNKNOWN_LABEL = 'app label unknown: write it as "app_label.{}"'


def app_labels(sources: list[Source]) -> dict[Path, str]:
    """
    Each app directory -> its label: the label of its AppConfig, else the last part of the
    AppConfig's name, else the name of the directory.
    """
    by_directory: dict[Path, str] = {}
    by_config: dict[Path, str] = {}
    for src in sources:
        if (app_dir := _app_dir(src.path)) is None:
            continue
        by_directory[app_dir] = app_dir.name
        if src.path.name != "apps.py":
            continue
        for node in src.nodes:
            if not isinstance(node, ast.Assign):
                continue
            targets = {getattr(t, "id", getattr(t, "attr", "")) for t in node.targets}
            value = getattr(node.value, "value", None)
            if isinstance(value, str):
                if "label" in targets:
                    by_config[app_dir] = value
                elif "name" in targets:
                    by_config.setdefault(app_dir, value.rpartition(".")[2])
    return {**by_directory, **by_config}


def sender_label(src: Source, sender: ast.expr, labels: dict[Path, str]) -> Label | None:
    """The model label of a sender, or a guess with a comment; None if not a model named plainly."""
    if isinstance(sender, ast.Constant) and isinstance(sender.value, str) and "." in sender.value:
        return sender.value, ""  # a lazy "app_label.Model" reference
    values: list[ast.AST] = [sender]
    if isinstance(sender, ast.Name) and sender.id not in src.bindings:
        values = bound_in(scope_of(src, sender), sender.id) or bound_in(src.tree, sender.id)
    looked_up = {_get_model_label(value) for value in values}
    if len(looked_up) == 1 and (label := looked_up.pop()):
        return label, ""
    cls = sender.id if isinstance(sender, ast.Name) else getattr(sender, "attr", "")
    if not cls[:1].isupper() or cls.isupper():
        return None  # an instance, a setting, a call...
    imported_as = dotted(sender, src.bindings)
    if imported_as is None:  # a class of this file (or from a star import)
        app_dir = _app_dir(src.path)
        local = cls in {n.name for n in src.tree.body if isinstance(n, ast.ClassDef)}
        if app_dir is not None and local and isinstance(sender, ast.Name):
            return f"{labels[app_dir]}.{cls}", ""
        return cls, _UNKNOWN_LABEL.format(cls)
    module = imported_as.rpartition(".")[0]
    parts = module.lstrip(".").split(".")
    if "models" not in parts:
        return cls, _UNKNOWN_LABEL.format(cls)
    at = len(parts) - 1 - parts[::-1].index("models")
    if any(part[:1].isupper() for part in parts[at + 1 :]):
        return None  # an attribute of a model, such as Order.tags.through
    app_parts = parts[:at]
    if level := len(module) - len(module.lstrip(".")):  # a relative import: find the directory
        app_dir = src.path.parent.joinpath(*[".."] * (level - 1), *app_parts).resolve()
        if app_dir in labels:
            return f"{labels[app_dir]}.{cls}", ""
        app_parts = [app_dir.name]
    if len(app_parts) == 3 and app_parts[:2] == ["django", "contrib"]:
        return f"{app_parts[2]}.{cls}", ""
    if not app_parts:
        return cls, _UNKNOWN_LABEL.format(cls)
    matches = {label for path, label in labels.items() if path.name == app_parts[-1]}
    if len(matches) == 1:
        return f"{matches.pop()}.{cls}", ""
    return f"{app_parts[-1]}.{cls}", "guessed from the import path: confirm the app label"


def _get_model_label(node: ast.AST) -> str:
    """The label of ``get_model("app_label", "Model")`` or ``get_model("app_label.Model")``."""
    if not isinstance(node, ast.Call) or node.keywords:
        return ""
    if getattr(node.func, "id", getattr(node.func, "attr", "")) != "get_model":
        return ""
    args = [getattr(arg, "value", None) for arg in node.args]
    if not all(isinstance(arg, str) for arg in args):
        return ""
    if len(args) == 2:
        return f"{args[0]}.{args[1]}"
    return str(args[0]) if len(args) == 1 and "." in str(args[0]) else ""


def _app_dir(path: Path) -> Path | None:
    """The directory of the app a file belongs to, if it is a models or apps module."""
    if path.name in ("models.py", "apps.py"):
        return path.parent.resolve()
    return path.parent.parent.resolve() if path.parent.name == "models" else None
