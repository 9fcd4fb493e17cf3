"""
The ``EVENTX_ASYNC_SIGNALS`` lines to add for the receivers found, given what the setting
already holds, so that running the codemod again after pasting them proposes nothing.

The setting is read when the codemod runs (not at import), through ``conf``, so
``override_settings`` and the project's settings module both count. Its form decides the
form of the suggestion: with a list, the signals to append; with a dict, the signals and
model labels to add (only the missing labels of a signal already there); with neither,
the whole setting, as a dict when every sender is known and as a list otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..conf import conf
from ..patching import parse_async_signals
from .builtin_signals import MAY_BECOME_ASYNCHRONOUS, SIGNAL_ALIASES
from .receivers import Receiver

__all__ = ["Configured", "configured", "settings_snippet"]

_MODEL_SIGNALS = "django.db.models.signals."
NOT_A_LIST_NOR_A_DICT = "eventx_signals.E006"  # the system check's id
_OPEN_ENDED = "takes any sender, or one not known from the code alone"


@dataclass(frozen=True)
class Configured:
    """What EVENTX_ASYNC_SIGNALS already makes asynchronous."""

    form: Literal["list", "dict"] | None = None  # None: not set, empty, or invalid
    # Signal path -> model label keys (see _key), or None for every sender.
    signals: dict[str, frozenset[tuple[str, str]] | None] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)  # as written, for the summary
    problem: str = ""  # why the setting was ignored

    def covers(self, receiver: Receiver) -> bool:
        """Whether the setting already makes this receiver's signal async for its sender."""
        if receiver.signal not in self.signals:
            return False
        keys = self.signals[receiver.signal]
        return keys is None or (receiver.sender is not None and _key(receiver.sender[0]) in keys)


def configured() -> Configured:
    """
    The current EVENTX_ASYNC_SIGNALS, read now, parsed as start-up parses it; an empty one
    with a note if it is neither a list nor a dict. Unusable entries are left out: the
    system checks report each with its fix.
    """
    value = conf.ASYNC_SIGNALS
    signals: dict[str, frozenset[tuple[str, str]] | None] = {}
    labels: dict[str, list[str]] = {}
    for entry in parse_async_signals(value):
        if entry.error_id == NOT_A_LIST_NOR_A_DICT:
            return Configured(problem=f"# The suggestion below ignores the setting: {entry.error}")
        if entry.error:
            continue
        path = SIGNAL_ALIASES.get(entry.path, entry.path)
        current = signals.get(path, frozenset())
        if entry.senders is None or current is None:
            signals[path] = None
        else:
            keys = {_key(label) for label in entry.senders}
            signals[path] = current | keys
            labels[path] = [*labels.get(path, []), *entry.senders]
    form: Literal["list", "dict"] | None = None
    if signals:
        form = "dict" if isinstance(value, dict) else "list"
    return Configured(form, signals, labels)


def settings_snippet(receivers: list[Receiver], current: Configured) -> list[str]:
    """The comment lines and settings lines to print, given what is configured."""
    lines = [current.problem] if current.problem else []
    if current.signals:
        lines.append(_summary(current))
    if not receivers:
        return lines + [
            "# No receivers of built-in model signals found: "
            "nothing to add to EVENTX_ASYNC_SIGNALS."
        ]
    missing = [r for r in receivers if not current.covers(r)]
    if not missing:
        return lines + [
            "# Every receiver of a built-in model signal found is covered by "
            "EVENTX_ASYNC_SIGNALS: nothing to add."
        ]
    if current.form == "list":
        return [*lines, "# Add to the EVENTX_ASYNC_SIGNALS list in your settings:", *_list(missing)]
    if current.form == "dict":
        return [
            *lines,
            "# Add to the EVENTX_ASYNC_SIGNALS dict in your settings:",
            *_dict(missing, current),
        ]
    open_ended = sorted(r.where for r in missing if r.sender is None)
    if not open_ended:
        return [
            *lines,
            "# Add to your settings:",
            "EVENTX_ASYNC_SIGNALS = {",
            *_dict(missing, current),
            "}",
        ]
    return [
        *lines,
        "# Add to your settings:",
        "# (a list: these receivers take any sender, or one not known from the code alone:",
        *[f"#   {where}" for where in open_ended],
        "# )",
        "EVENTX_ASYNC_SIGNALS = [",
        *_list(missing),
        "]",
    ]


def _list(missing: list[Receiver]) -> list[str]:
    """List entries: one dotted path per signal, after its caveat."""
    lines: list[str] = []
    for signal in sorted({r.signal for r in missing}):
        lines += _caveat(signal) + [f'    "{signal}",']
    return lines


def _dict(missing: list[Receiver], current: Configured) -> list[str]:
    """Dict entries: each signal with the model labels to add (and receivers to check)."""
    lines: list[str] = []
    for signal in sorted({r.signal for r in missing}):
        receivers = [r for r in missing if r.signal == signal]
        lines += _caveat(signal)
        if signal in current.signals:
            lines.append(f'    "{signal}": [  # already in your settings: add to its list')
        else:
            lines.append(f'    "{signal}": [')
        for label, comment in sorted({r.sender for r in receivers if r.sender}):
            lines.append(f'        "{label}",' + (f"  # {comment}" if comment else ""))
        for where in sorted(r.where for r in receivers if r.sender is None):
            lines.append(f"        # {where} {_OPEN_ENDED}: add the labels of its senders")
        lines.append("    ],")
    return lines


def _caveat(signal: str) -> list[str]:
    caveat = MAY_BECOME_ASYNCHRONOUS[signal]
    return [f"    # {signal.rpartition('.')[2]}: {caveat}."] if caveat else []


def _summary(current: Configured) -> str:
    """One line saying what EVENTX_ASYNC_SIGNALS already makes async."""
    parts = []
    for path, keys in current.signals.items():
        senders = "every sender" if keys is None else ", ".join(sorted(set(current.labels[path])))
        parts.append(f"{path.removeprefix(_MODEL_SIGNALS)} ({senders or 'no sender'})")
    return f"# EVENTX_ASYNC_SIGNALS already makes async: {'; '.join(sorted(parts))}."


def _key(label: str) -> tuple[str, str]:
    """A model label as Django compares them: the app label as is, the model name in any case."""
    app_label, _, model = label.rpartition(".")
    return app_label, model.lower()
