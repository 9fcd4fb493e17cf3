"""What `manage.py eventx list` shows, and the checks read: every async,
patched or named signal, its receivers, their senders, whether each runs
inline or in the background, on which backend alias, and whether it falls
back to this process because a worker process could not find it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.dispatch import Signal

from .backends.base import BaseBackend
from .backends.handler import load_backend_class
from .backends.out_of_process.payloads import receiver_problem, signal_problem
from .config.settings import BACKENDS, DEFAULT_BACKEND_ALIAS
from .core.labels import receiver_label, sender_label, signal_label
from .core.registry import registry
from .dispatch.modes import is_inline, is_marked_background
from .exceptions import EventxConfigurationError


@dataclass(frozen=True)
class ReceiverInfo:
    path: str
    senders: tuple[str, ...]  # empty: any sender
    mode: str  # "background" or "inline"
    #: The backend alias of a background receiver ("" for an inline one).
    backend: str = ""
    #: Why a worker process of an out-of-process backend could not find the
    #: receiver, which then runs in the sending process ("" if it can).
    fallback: str = ""


@dataclass(frozen=True)
class SignalInfo:
    name: str
    kind: str  # "AsyncSignal", "patched signal" or "event"
    receivers: tuple[ReceiverInfo, ...]
    note: str = ""


def collect() -> list[SignalInfo]:
    """Every signal the registry knows, described."""
    infos = []
    for known in registry.known():
        patch = known.patch
        if patch is None:
            backend = getattr(known.signal, "backend", None)
            infos.append(
                _describe(known.signal, known.kind, lambda receiver, sender: True, backend)
            )
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
        infos.append(_describe(known.signal, known.kind, background, patch.backend, note))
    return sorted(infos, key=lambda info: (info.kind, info.name))


def _alias_of(backend: Any) -> tuple[str, bool]:
    """The alias a signal's ``backend`` names, and whether that backend runs
    receivers in another process (False when it cannot be told)."""
    if isinstance(backend, BaseBackend):
        return backend.alias, backend.serializes
    alias = backend or DEFAULT_BACKEND_ALIAS
    configured = BACKENDS.raw()
    params = configured.get(alias) if isinstance(configured, Mapping) else None
    if not isinstance(params, Mapping):
        return alias, False
    try:
        return alias, load_backend_class(params.get("BACKEND"), alias).serializes
    except EventxConfigurationError:
        return alias, False


def _describe(
    signal: Signal, kind: str, background: Any, backend: Any, note: str = ""
) -> SignalInfo:
    """
    Find each receiver's senders through Signal._live_receivers(): receivers
    for any sender answer for ``None``; the others answer for their model.
    """
    alias, out_of_process = _alias_of(backend)
    signal_trouble = signal_problem(signal) if out_of_process else None
    any_sender = _live(signal, _Probe())
    per_receiver: dict[int, tuple[Any, list[Any]]] = {}
    for receiver in any_sender:
        per_receiver[id(receiver)] = (receiver, [])
    for model in apps.get_models(include_auto_created=True):
        for receiver in _live(signal, model):
            if any(receiver is other for other in any_sender):
                continue
            per_receiver.setdefault(id(receiver), (receiver, []))[1].append(model)
    paths = [receiver_label(receiver) for receiver, _ in per_receiver.values()]
    receivers = []
    for receiver, senders in per_receiver.values():
        target = getattr(receiver, "eventx_listener", receiver)
        sample_sender = senders[0] if senders else None
        in_background = background(receiver, sample_sender) and not is_inline(receiver)
        fallback = ""
        if in_background and out_of_process:
            fallback = (
                (f"has a signal that {signal_trouble}" if signal_trouble else "")
                or receiver_problem(receiver)
                or (
                    "shares its name with another receiver"
                    if paths.count(receiver_label(receiver)) > 1
                    else ""
                )
            )
        receivers.append(
            ReceiverInfo(
                path=receiver_label(target),
                senders=tuple(sender_label(sender) for sender in senders),
                mode="background" if in_background else "inline",
                backend=alias if in_background else "",
                fallback=fallback,
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
