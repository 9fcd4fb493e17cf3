"""What `manage.py eventx list` shows: every async, patched or named signal,
its receivers, their senders and whether each runs inline or in the
background."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.dispatch import Signal

from .labels import receiver_label, sender_label, signal_label
from .modes import is_inline, is_marked_background


@dataclass(frozen=True)
class ReceiverInfo:
    path: str
    senders: tuple[str, ...]  # empty: any sender
    mode: str  # "background" or "inline"


@dataclass(frozen=True)
class SignalInfo:
    name: str
    kind: str  # "AsyncSignal", "patched signal" or "event"
    receivers: tuple[ReceiverInfo, ...]
    note: str = ""


def collect() -> list[SignalInfo]:
    from .events import _events
    from .patching import get_patch, patched_signals
    from .signals import all_async_signals

    event_signals = {id(signal): name for name, signal in _events.items()}
    infos = []
    for signal in list(all_async_signals):
        if id(signal) in event_signals:
            continue
        infos.append(_describe(signal, "AsyncSignal", lambda receiver, sender: True))
    for signal in patched_signals():
        patch = get_patch(signal)
        if patch is None:
            continue
        senders = patch.senders()

        def background(
            receiver: Any, sender: Any, patch: Any = patch, senders: Any = senders
        ) -> bool:
            if patch.all_receivers and (senders is None or sender in senders):
                return True
            return is_marked_background(receiver)

        note = ""
        if patch.all_receivers and senders is not None:
            note = "background for senders " + ", ".join(sorted(sender_label(s) for s in senders))
        infos.append(_describe(signal, "patched signal", background, note))
    for signal in _events.values():
        infos.append(_describe(signal, "event", lambda receiver, sender: True))
    return sorted(infos, key=lambda info: (info.kind, info.name))


def _describe(signal: Signal, kind: str, background: Any, note: str = "") -> SignalInfo:
    """
    Find each receiver's senders through Signal._live_receivers(): receivers
    for any sender answer for ``None``; the others answer for their model.
    """
    any_sender = _live(signal, _Probe())
    per_receiver: dict[int, tuple[Any, list[Any]]] = {}
    for receiver in any_sender:
        per_receiver[id(receiver)] = (receiver, [])
    for model in apps.get_models(include_auto_created=True):
        for receiver in _live(signal, model):
            if any(receiver is other for other in any_sender):
                continue
            per_receiver.setdefault(id(receiver), (receiver, []))[1].append(model)
    receivers = []
    for receiver, senders in per_receiver.values():
        target = getattr(receiver, "eventx_listener", receiver)
        sample_sender = senders[0] if senders else None
        in_background = background(receiver, sample_sender) and not is_inline(receiver)
        receivers.append(
            ReceiverInfo(
                path=receiver_label(target),
                senders=tuple(sender_label(sender) for sender in senders),
                mode="background" if in_background else "inline",
            )
        )
    found = len(receivers)
    connected = len(signal.receivers)
    if connected > found:
        note = (note + "; " if note else "") + (
            f"{connected - found} more receivers connected for non-model senders"
        )
    return SignalInfo(signal_label(signal), kind, tuple(receivers), note)


class _Probe:
    """A sender no receiver names: only receivers for any sender answer it
    (None cannot be used: caching signals keep senders in a weak map)."""


def _live(signal: Signal, sender: Any) -> list[Any]:
    sync_receivers, async_receivers = signal._live_receivers(sender)
    return list(sync_receivers) + list(async_receivers)
