"""
The ``EVENTX_ASYNC_SIGNALS`` lines to add for the receivers found, given what the setting
already holds, so that running the codemod again after pasting them proposes nothing.

The setting is read when the codemod runs (not at import), through ``config.settings``, so
``override_settings`` and the project's settings module both count.

A signal is never made async for every sender unless asked (``--all-senders``): the
suggestion is the dict form, with the model labels of the senders known from the code;
a receiver whose sender is not known is named in a comment (and in the review list).
With ``--all-senders``, the signals of such receivers get ``None`` (every sender), or
are listed in the list form when every signal to add is one of them.

What the setting already holds decides the form: with a dict, the signals and labels to
add (only the missing labels of a signal already there); with a list, the same list
entries when every signal to add is for every sender, else the whole setting rewritten
as a dict (the list's signals with ``None``); with neither, the whole setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..config.async_signals import parse_async_signals
from ..config.settings import ASYNC_SIGNALS
from .builtin_signals import MAY_BECOME_ASYNCHRONOUS, SIGNAL_ALIASES
from .model_labels import Label
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


def configured() -> Configured:
    """
    The current EVENTX_ASYNC_SIGNALS, read now, parsed as start-up parses it; an empty one
    with a note if it is neither a list nor a dict. Unusable entries are left out: the
    system checks report each with its fix.
    """
    value = ASYNC_SIGNALS.raw()
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


def settings_snippet(
    receivers: list[Receiver], current: Configured, *, all_senders: bool = False, left_out: int = 0
) -> list[str]:
    """
    The comment lines and settings lines to print for the receivers proposed (``left_out``
    more need review), given what is configured.
    """
    lines = [current.problem] if current.problem else []
    if current.signals:
        lines.append(_summary(current))
    if not receivers and left_out:
        return lines + [
            "# No receiver of a built-in model signal found is safe to make async as it is "
            "(see the review list): nothing to add to EVENTX_ASYNC_SIGNALS."
        ]
    if not receivers:
        return lines + [
            "# No receivers of built-in model signals found: "
            "nothing to add to EVENTX_ASYNC_SIGNALS."
        ]
    entries = _entries(receivers, current, all_senders=all_senders)
    if not entries:
        aside = ", those listed for review aside," if left_out else ""
        return lines + [
            f"# Every receiver of a built-in model signal found{aside} is covered by "
            "EVENTX_ASYNC_SIGNALS: nothing to add."
        ]
    every_sender = all(entry.widened for entry in entries)
    if current.form == "list" and every_sender:
        return [*lines, "# Add to the EVENTX_ASYNC_SIGNALS list in your settings:", *_list(entries)]
    if current.form == "list":
        return [
            *lines,
            "# EVENTX_ASYNC_SIGNALS is a list, which makes each signal async for every sender; "
            "to add the signals below for the senders named only, write it as this dict:",
            "EVENTX_ASYNC_SIGNALS = {",
            *[f'    "{path}": None,  # already in your settings' for path in current.signals],
            *_dict(entries, current),
            "}",
        ]
    if current.form == "dict":
        return [
            *lines,
            "# Add to the EVENTX_ASYNC_SIGNALS dict in your settings:",
            *_dict(entries, current),
        ]
    if not every_sender:
        return [
            *lines,
            "# Add to your settings:",
            "EVENTX_ASYNC_SIGNALS = {",
            *_dict(entries, current),
            "}",
        ]
    return [
        *lines,
        "# Add to your settings:",
        f"# (a list: these receivers {_OPEN_ENDED.replace('takes', 'take')}:",
        *[f"#   {where}" for where in sorted(w for e in entries for w in e.open_ended)],
        "# )",
        "EVENTX_ASYNC_SIGNALS = [",
        *_list(entries),
        "]",
    ]


@dataclass(frozen=True)
class _Entry:
    """What to add for one signal."""

    signal: str
    labels: list[Label]  # the model labels the setting misses
    open_ended: list[str]  # the receivers whose sender is not known ("file:line handler")
    widened: bool  # for every sender (asked with --all-senders)


def _entries(receivers: list[Receiver], current: Configured, *, all_senders: bool) -> list[_Entry]:
    entries = []
    for signal in sorted({r.signal for r in receivers}):
        keys = current.signals.get(signal, frozenset())
        if keys is None:  # already async for every sender
            continue
        mine = [r for r in receivers if r.signal == signal]
        labels = sorted({label for r in mine for label in r.senders if _key(label[0]) not in keys})
        open_ended = sorted(r.where for r in mine if r.any_sender)
        if labels or open_ended:
            entries.append(_Entry(signal, labels, open_ended, all_senders and bool(open_ended)))
    return entries


def _list(entries: list[_Entry]) -> list[str]:
    """List entries: one dotted path per signal, after its caveat."""
    lines: list[str] = []
    for entry in entries:
        lines += _caveat(entry.signal) + [f'    "{entry.signal}",']
    return lines


def _dict(entries: list[_Entry], current: Configured) -> list[str]:
    """Dict entries: each signal with the model labels to add (and receivers to check)."""
    lines: list[str] = []
    for entry in entries:
        signal = entry.signal
        lines += _caveat(signal)
        if entry.widened:
            lines += [
                f"    # every sender (--all-senders): {where} {_OPEN_ENDED}"
                for where in entry.open_ended
            ]
            already = (
                "  # already in your settings: replace its list"
                if signal in current.signals
                else ""
            )
            lines.append(f'    "{signal}": None,{already}')
            continue
        if signal in current.signals:
            lines.append(f'    "{signal}": [  # already in your settings: add to its list')
        else:
            lines.append(f'    "{signal}": [')
        for label, comment in entry.labels:
            lines.append(f'        "{label}",' + (f"  # {comment}" if comment else ""))
        for where in entry.open_ended:
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
