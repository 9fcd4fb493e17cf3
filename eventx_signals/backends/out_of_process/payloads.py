"""
Receiver runs as JSON payloads, for backends whose receivers run in another
process: built at send time from a ``Delivery``, run in the worker by
``run_payload()``.

A payload names its signal (dotted path, or event name) and its receiver by
a stable id, its dotted path. The worker looks both up only among what it
has itself: the signals django-eventx knows of (AsyncSignals, patched
signals, named events) and the receivers connected to that signal for that
sender. A payload naming anything else is refused: it can never make the
worker import or call an arbitrary path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

from ...core import tracing
from ...core.counters import counters
from ...core.labels import receiver_label, signal_label
from ...core.ratelimit import LogOnce
from ...core.registry import registry
from ...engine import retries
from ...engine.delivery import Delivery
from ...engine.run import run
from . import codec, signing

logger = logging.getLogger("eventx_signals")

#: 2: signed (``signing``).
VERSION = 2


class RefusedPayload(ValueError):
    """A payload that is malformed or names no connected receiver."""


class UnknownToThisWorker(RefusedPayload):
    """A payload naming a signal, event or receiver this process does not
    have: most often a worker still running older code than the sender."""


# -- send side ------------------------------------------------------------------


def signal_problem(signal: Signal) -> str | None:
    """Why a worker process could not find ``signal`` by its name, if it
    could not."""
    label = signal_label(signal)
    if registry.event(label) is signal:
        return None
    if label.startswith("<"):
        return "is not held by a module attribute (define the signal at module level)"
    return None


def signal_reference(signal: Signal) -> dict[str, str]:
    """How a payload names its signal: ``{"event": name}`` or ``{"signal": path}``."""
    label = signal_label(signal)
    if registry.event(label) is signal:
        return {"event": label}
    return {"signal": label}


def receiver_problem(receiver: Any) -> str | None:
    """Why a worker process could not find ``receiver`` again by its dotted
    path, if it could not."""
    label = receiver_label(receiver)
    target = getattr(receiver, "__func__", receiver)
    bound_to = getattr(receiver, "__self__", None)
    if "<lambda>" in label:
        return "is a lambda"
    if "<locals>" in label:
        return "is defined inside a function (a closure)"
    if bound_to is not None and not isinstance(bound_to, type):
        return "is a method bound to one object"
    if not getattr(target, "__qualname__", None):
        return "has no module-level name"
    return None


def build_payloads(delivery: Delivery) -> tuple[list[dict[str, Any] | None], dict[int, str]]:
    """
    One JSON-compatible payload per receiver of ``delivery``, None in the
    place of a receiver a worker process could not find (with the reason,
    by index, in the second item): those run in this process. Raises
    ``TypeError`` naming a keyword argument that cannot travel, before
    anything is handed to an engine.
    """
    signal = delivery.signal
    problems: dict[int, str] = {}
    problem = signal_problem(signal)
    if problem:
        problems = dict.fromkeys(range(len(delivery.receivers)), f"has a signal that {problem}")
        return [None] * len(delivery.receivers), problems
    reference = signal_reference(signal)
    if reference.get("signal", "").startswith("django."):
        # Django's own signal: Django's code sends it, and must never fail
        # because an argument it adds cannot travel.
        kwargs, described = codec.encode_kwargs_describing(delivery.kwargs)
        for name in described:
            _warn_described(reference["signal"], name, delivery.kwargs[name])
    else:
        kwargs = codec.encode_kwargs(delivery.kwargs)
    try:
        sender = codec.encode(delivery.sender)
    except TypeError as exc:
        raise TypeError(f"The sender cannot be sent to another process: {exc}") from None
    ids = [receiver_label(receiver) for receiver in delivery.receivers]
    for index, receiver in enumerate(delivery.receivers):
        problem = receiver_problem(receiver)
        if problem is None and ids.count(ids[index]) > 1:
            problem = "shares its name with another receiver, so a worker could not tell them apart"
        if problem is not None:
            problems[index] = problem
    queued_at = delivery.queued_at
    trace_headers = tracing.carrier(delivery)
    return [
        None
        if index in problems
        else {
            "v": VERSION,
            **reference,
            "dispatch": delivery.dispatch_id,
            "receiver": ids[index],
            "sender": sender,
            "kwargs": kwargs,
            "robust": delivery.robust,
            "attempt": delivery.attempt,
            "queued_at": queued_at,
            **({"trace": trace_headers} if trace_headers else {}),
        }
        for index in range(len(ids))
    ], problems


#: One WARNING per argument of a Django signal (and type) that cannot travel.
log_described = LogOnce(logging.WARNING)


def _warn_described(signal: str, name: str, value: Any) -> None:
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    log_described(
        (signal, name, kind),
        "The argument %r of %s (a %s) cannot be sent to another process; receivers "
        "there get an eventx_signals.ArgumentDescription of it (its type, and for a "
        "QuerySet its model and database) instead. (Logged once per argument and type.)",
        name,
        signal,
        kind,
    )


def round_trip(delivery: Delivery) -> None:
    """Replace the delivery's arguments with what a worker would decode, so
    that eager() runs catch what would fail in production."""
    payloads, _ = build_payloads(delivery)
    first = next((payload for payload in payloads if payload is not None), None)
    if first is not None:
        delivery.kwargs = codec.decode_kwargs(first["kwargs"])
        delivery.sender = codec.decode(first["sender"])


# -- worker side ----------------------------------------------------------------


def find_signal(payload: dict[str, Any]) -> Signal:
    """The signal a payload names, among the signals this process knows."""
    if "event" in payload:
        name = payload["event"]
        signal = registry.event(name) if isinstance(name, str) else None
        if signal is None:
            raise UnknownToThisWorker(f"no listener of the event {name!r} is registered here.")
        return signal
    path = payload.get("signal")
    if not isinstance(path, str):
        raise RefusedPayload("the payload names no signal.")
    found = registry.by_path(path)
    if found is None:
        raise UnknownToThisWorker(
            f"{path!r} is not an AsyncSignal or patched signal of this process."
        )
    return found


def find_receiver(signal: Signal, sender: Any, receiver_name: Any) -> tuple[Any, bool]:
    """The receiver named ``receiver_name`` among those connected to
    ``signal`` for ``sender`` here, and whether it is ``async def``."""
    try:
        sync_receivers, async_receivers = signal._live_receivers(sender)
    except TypeError:  # a signal that caches by sender keeps senders in a weak map
        raise RefusedPayload(
            f"{type(sender).__name__} cannot be a sender of {signal_label(signal)}."
        ) from None
    for receivers, is_async in ((sync_receivers, False), (async_receivers, True)):
        for receiver in receivers:
            if receiver_label(receiver) == receiver_name:
                return receiver, is_async
    raise UnknownToThisWorker(
        f"no receiver named {receiver_name!r} is connected to {signal_label(signal)} "
        "in this process."
    )


def decode_payload(payload: Any, refetch: bool = False, extra_attempts: int = 0) -> Delivery:
    """A one-receiver delivery from a payload, or RefusedPayload.
    ``extra_attempts``: attempts the engine made beyond those the payload
    counts (a run requeued after its worker died)."""
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise RefusedPayload(f"not a version {VERSION} django-eventx payload.")
    if not signing.has_valid_signature(payload):
        raise RefusedPayload(
            "its signature is missing or does not match (it was not sent by a process "
            "with this site's SECRET_KEY or one of SECRET_KEY_FALLBACKS, or it was "
            "changed since)."
        )
    signal = find_signal(payload)
    try:
        sender = codec.decode(payload.get("sender"))
        kwargs = codec.decode_kwargs(payload.get("kwargs"), refetch=refetch)
    except codec.PayloadError as exc:
        raise RefusedPayload(str(exc)) from exc
    except RecursionError:
        raise RefusedPayload("the payload is nested too deeply.") from None
    reserved = {"signal", "sender"} & set(kwargs)
    if reserved:
        raise RefusedPayload(f"keyword arguments may not be named {sorted(reserved)}.")
    receiver, is_async = find_receiver(signal, sender, payload.get("receiver"))
    attempt = payload.get("attempt", 1)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise RefusedPayload(f"the attempt must be a positive integer, not {attempt!r}.")
    attempt += extra_attempts
    delivery = Delivery(
        signal, sender, kwargs, [receiver], 0 if is_async else 1, bool(payload.get("robust"))
    )
    delivery.attempt = attempt
    dispatch = payload.get("dispatch")
    if isinstance(dispatch, str) and dispatch:
        delivery.dispatch_id = dispatch[:64]
    queued_at = payload.get("queued_at")
    if isinstance(queued_at, (int, float)) and not isinstance(queued_at, bool):
        delivery.queued_at = float(queued_at)
    delivery.trace = tracing.context_from(payload.get("trace"))
    retries.set_attempt(delivery.context, attempt)
    return delivery


#: Said when a worker does not know what a payload names.
UPGRADE_HINT = (
    " If the sender runs newer code than this worker, restart the worker with that "
    "code, then send this run again: pass this log line to manage.py eventx resend."
)

#: What precedes the payload at the end of the ERROR lines of a failed
#: hand-off and of a refused payload; ``manage.py eventx resend`` reads it back.
LOGGED_PAYLOAD_PREFIX = "Payload: "


def payload_for_log(payload: Any) -> str:
    """``Payload: {...}``: the end of an ERROR line, from which the receiver
    run can be sent again."""
    try:
        text = json.dumps(payload, sort_keys=True)
    except RecursionError:  # a forged payload nested too deeply
        text = "(nested too deeply to show)"
    except (TypeError, ValueError):  # not from an engine: a test's object
        text = repr(payload)
    return LOGGED_PAYLOAD_PREFIX + text


#: Called with the payload of the next attempt and the seconds to wait.
EnqueueRetry = Callable[[dict[str, Any], float], None]


def run_payload(
    payload: Any,
    *,
    refetch: bool = False,
    enqueue_retry: EnqueueRetry | None = None,
    extra_attempts: int = 0,
) -> Any:
    """
    Run the receiver a payload names, in this (worker) process, with the
    usual logging and counters. Return what the receiver returned; raise
    what it raised (so that the engine records the failure), after handing
    the next attempt to ``enqueue_retry`` if its retry policy asks for one.
    A refused payload is logged and raises ``RefusedPayload``.
    ``extra_attempts``: see ``decode_payload``.
    """
    try:
        delivery = decode_payload(payload, refetch, extra_attempts)
    except RefusedPayload as exc:
        # With the payload, so that it can be sent again (manage.py eventx
        # resend) once the worker has the receiver, e.g. after a deploy.
        logger.error(
            "Refused a payload: %s.%s %s",
            str(exc).rstrip("."),
            UPGRADE_HINT if isinstance(exc, UnknownToThisWorker) else "",
            payload_for_log(payload),
        )
        raise

    alias = payload.get("backend")
    if not isinstance(alias, str):
        alias = ""

    def retry_later(following: Delivery, delay: float) -> None:
        if enqueue_retry is None:
            run(following, on_worker=True, alias=alias)
        else:
            enqueue_retry(signing.signed(payload, attempt=following.attempt), delay)

    counters.dispatched.advance()
    if delivery.attempt > 1:
        counters.started.advance()  # counted by the run loop for a first attempt only
    run(delivery, on_worker=True, retry_later=retry_later, alias=alias)
    future = delivery.futures[0]
    if not future.done():  # the next attempt is the engine's: this one ends here
        counters.finished(1, 0, 0)
        raise RetryScheduled(f"attempt {delivery.attempt} failed; the next one is queued.")
    return future.result()


class RetryScheduled(Exception):
    """This attempt failed and the next one was handed to the engine."""
