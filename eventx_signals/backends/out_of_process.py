"""
What the backends whose receivers run in another process share: each
receiver run becomes one JSON payload (see ``payloads``), encoded at send
time and handed to the engine once the transaction commits; its future
resolves to the engine's own handle.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from asgiref.sync import sync_to_async

from .. import payloads
from ..delivery import Delivery
from ..exceptions import InvalidBackend
from ..labels import signal_label
from .base import BaseBackend, backends, bool_error

logger = logging.getLogger("eventx_signals")


class OutOfProcessBackend(BaseBackend):
    """
    Base class of the ``django_tasks`` and ``celery`` backends. Subclasses
    implement ``enqueue(payload)``, returning the engine's handle.

    Option ``refetch_instances`` (default False): the worker reads model
    instances again from the database instead of rebuilding them from the
    field values they had at send time (a deleted row falls back to those).
    """

    serializes = True
    option_defaults: ClassVar[Mapping[str, Any]] = {"refetch_instances": False}

    @classmethod
    def validate_option(cls, name: str, value: Any) -> str | None:
        if name == "refetch_instances":
            return bool_error(name, value)
        return None

    def encode(self, delivery: Delivery) -> None:
        """Build the payloads at send time: an argument that cannot travel,
        or a receiver a worker could not find, fails the send here."""
        encoded = payloads.build_payloads(delivery)
        for payload in encoded:
            payload["backend"] = self.alias
            if self.options["refetch_instances"]:
                payload["refetch"] = True
        delivery.encoded = encoded

    def round_trip(self, delivery: Delivery) -> None:
        """Under eager(): give the receivers what a worker would decode."""
        payloads.round_trip(delivery)

    def enqueue(self, payload: dict[str, Any]) -> Any:
        """Hand one receiver run to the engine; return the engine's handle."""
        raise NotImplementedError

    def submit(self, delivery: Delivery) -> None:
        if not hasattr(delivery, "encoded"):
            self.encode(delivery)
        for future, payload in zip(delivery.futures, delivery.encoded):
            if not future.set_running_or_notify_cancel():
                continue
            try:
                handle = self.enqueue(payload)
            except Exception as exc:
                # Nothing reached the engine: say so loudly, with what is
                # needed to send it again, rather than lose it quietly.
                logger.error(
                    "Could not hand a receiver run of %s to the %s backend %r: %s. %s",
                    signal_label(delivery.signal),
                    type(self).__name__,
                    self.alias,
                    str(exc).rstrip("."),
                    payloads.payload_for_log(payload),
                    exc_info=exc,
                )
                future.set_exception(exc)
            else:
                future.set_result(handle)

    async def asubmit(self, delivery: Delivery) -> None:
        await sync_to_async(self.submit)(delivery)


def run_payload_in_worker(payload: Any, enqueue_retry: payloads.EnqueueRetry | None = None) -> Any:
    """
    The worker side of every out-of-process backend: run the receiver a
    payload names and return its return value if it is JSON (an engine
    stores it), else None. Raises what ``payloads.run_payload`` raises.
    """
    refetch = isinstance(payload, dict) and payload.get("refetch") is True
    result = payloads.run_payload(payload, refetch=refetch, enqueue_retry=enqueue_retry)
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        return None
    return result


def payload_from_text(text: str) -> dict[str, Any]:
    """The payload in ``text``: a JSON object, or a log line holding one
    after ``Payload: `` (``payloads.payload_for_log``). Raises ValueError
    saying what is wrong."""
    prefix = payloads.LOGGED_PAYLOAD_PREFIX
    text = text.strip()
    candidates = [text]
    start = text.find(prefix)
    while start >= 0:  # the message before it may hold the prefix too
        candidates.append(text[start + len(prefix) :])
        start = text.find(prefix, start + 1)
    for candidate in candidates:
        try:
            payload = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(payload, dict):
            return payload
    raise ValueError(
        f"it is neither a JSON object nor a log line holding one after {prefix.strip()!r}"
    )


def backend_to_resend(payload: dict[str, Any]) -> OutOfProcessBackend:
    """
    The backend that takes a payload, as logged when its hand-off failed or
    a worker refused it, again: the one of the alias it names. The worker
    checks it as it checks every payload. Raises ValueError if the payload
    names no alias of an out-of-process backend.
    """
    alias = payload.get("backend")
    if not isinstance(alias, str) or not alias:
        raise ValueError("the payload names no backend alias (its 'backend' key)")
    try:
        backend = backends[alias]
    except InvalidBackend as exc:
        raise ValueError(str(exc).rstrip(".")) from exc
    if not isinstance(backend, OutOfProcessBackend):
        raise ValueError(
            f"the backend alias {alias!r} ({type(backend).__name__}) runs receivers in "
            "this process; only payloads of the django_tasks and celery backends are "
            "sent again"
        )
    return backend
