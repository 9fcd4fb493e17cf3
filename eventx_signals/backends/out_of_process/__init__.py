"""
What the backends whose receivers run in another process share: each
receiver run becomes one JSON payload (see ``payloads``), encoded at send
time and handed to the engine once the transaction commits; its future
resolves to the engine's own handle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any, ClassVar

from asgiref.sync import sync_to_async

from ...config import validators
from ...core.counters import counters
from ...core.labels import receiver_label, signal_label
from ...core.ratelimit import LogOnce, RateLimitedLog
from ...core.transactions import submit_on_commit
from ...engine.delivery import Delivery
from ...engine.futures import ReceiverFuture
from ...engine.log_fields import run_fields
from ..base import BaseBackend
from ..thread import ThreadBackend
from . import payloads, signing

logger = logging.getLogger("eventx_signals")


#: What to do with a receiver run the engine did not take (broker down or
#: not answering): log it with its payload, to send again ("drop"), or run
#: it in this process on a thread ("thread").
WHEN_HANDOFF_FAILS = ("drop", "thread")


def chain_future(source: Future[Any], target: Future[Any]) -> None:
    """Complete ``target`` (already running) as ``source`` completes."""

    def copy(done: Future[Any]) -> None:
        if done.cancelled():
            target.cancel()
        elif done.exception() is not None:
            target.set_exception(done.exception())
        else:
            target.set_result(done.result())

    source.add_done_callback(copy)


class OutOfProcessBackend(BaseBackend):
    """
    Base class of the ``django_tasks`` and ``celery`` backends. Subclasses
    implement ``enqueue(payload)``, returning the engine's handle.

    Option ``refetch_instances`` (default False): the worker reads model
    instances again from the database instead of rebuilding them from the
    field values they had at send time (a deleted row falls back to those).
    Option ``when_handoff_fails`` (default ``"drop"``): what becomes of a
    run the engine did not take; see ``WHEN_HANDOFF_FAILS``.

    A receiver a worker process could not find by its dotted path (a
    closure, a lambda, a bound method) runs in this process instead, on a
    thread backend of its own, with one WARNING per receiver: how a receiver
    was defined never fails the sender.
    """

    serializes = True
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "refetch_instances": False,
        "when_handoff_fails": "drop",
    }

    def __init__(self, alias: str = "default", options: Mapping[str, Any] | None = None):
        super().__init__(alias, options)
        self._local: ThreadBackend | None = None
        self._local_lock = threading.Lock()
        self._log_fallback = RateLimitedLog(logging.WARNING)

    @classmethod
    def validate_option(cls, name: str, value: Any) -> list[str]:
        label = f"Option {name!r}"
        if name == "refetch_instances":
            return validators.boolean(value, label)
        if name == "when_handoff_fails":
            return validators.one_of(WHEN_HANDOFF_FAILS)(value, label)
        return []

    def enqueues_inside(self, database: str) -> bool:
        """Whether a dispatch made in a transaction on ``database`` is handed
        over at once, inside that transaction (an outbox), rather than at
        commit."""
        return False

    def dispatch(self, delivery: Delivery, commit_alias: str | None) -> None:
        """Build the payloads now, at send time (an argument that cannot
        travel fails the send here); hand them over now or at commit; run
        the receivers a worker could not find here."""
        self.encode(delivery)
        local = [index for index, payload in enumerate(delivery.encoded) if payload is None]
        if local:
            counters.record_fallback(self.alias, [delivery.receivers[i] for i in local])
            self.local_backend.dispatch(delivery.part(local), commit_alias)
            if len(local) == len(delivery.encoded):
                return
        if commit_alias is not None and not self.enqueues_inside(commit_alias):
            submit_on_commit(delivery, commit_alias, self.submit)
        else:
            self.submit(delivery)

    async def adispatch(self, delivery: Delivery) -> None:
        self.encode(delivery)
        local = [index for index, payload in enumerate(delivery.encoded) if payload is None]
        if local:
            counters.record_fallback(self.alias, [delivery.receivers[i] for i in local])
            await self.local_backend.adispatch(delivery.part(local))
            if len(local) == len(delivery.encoded):
                return
        await self.asubmit(delivery)

    def encode(self, delivery: Delivery) -> None:
        """Build the payloads (None in the place of a receiver to run here)."""
        encoded, problems = payloads.build_payloads(delivery)
        for payload in encoded:
            if payload is not None:
                payload["backend"] = self.alias
                if self.options["refetch_instances"]:
                    payload["refetch"] = True
                signing.sign(payload)
        for index, problem in problems.items():
            _warn_runs_here(delivery.receivers[index], delivery.signal, problem, self.alias)
        delivery.encoded = encoded

    @property
    def local_backend(self) -> ThreadBackend:
        """The thread backend that runs, in this process, the receivers a
        worker process could not find."""
        local = self._local
        if local is None:
            with self._local_lock:
                local = self._local
                if local is None:
                    local = self._local = ThreadBackend(self.alias)
        return local

    def round_trip(self, delivery: Delivery) -> None:
        """Under eager(): give the receivers what a worker would decode."""
        payloads.round_trip(delivery)

    def enqueue(self, payload: dict[str, Any]) -> Any:
        """Hand one receiver run to the engine; return the engine's handle."""
        raise NotImplementedError

    def hand_off(self, payload: dict[str, Any]) -> Any:
        """``enqueue(payload)``, bounded as the backend bounds it."""
        return self.enqueue(payload)

    async def ahand_off(self, payload: dict[str, Any]) -> Any:
        """Async twin of ``hand_off``."""
        return await sync_to_async(self.enqueue)(payload)

    def submit(self, delivery: Delivery) -> None:
        if not hasattr(delivery, "encoded"):
            self.encode(delivery)
        for index, (future, payload) in enumerate(zip(delivery.futures, delivery.encoded)):
            if payload is None:  # runs here (see dispatch)
                continue
            if not future.set_running_or_notify_cancel():
                continue
            try:
                handle = self.hand_off(payload)
            except Exception as exc:
                self._handoff_failed(delivery, index, payload, exc)
            else:
                future.set_result(handle)

    async def asubmit(self, delivery: Delivery) -> None:
        for index, (future, payload) in enumerate(zip(delivery.futures, delivery.encoded)):
            if payload is None or not future.set_running_or_notify_cancel():
                continue
            try:
                handle = await self.ahand_off(payload)
            except Exception as exc:
                self._handoff_failed(delivery, index, payload, exc)
            else:
                future.set_result(handle)

    def _handoff_failed(
        self, delivery: Delivery, index: int, payload: dict[str, Any], exc: Exception
    ) -> None:
        """Nothing reached the engine: run it here (``when_handoff_fails``
        "thread") or say so loudly, with what is needed to send it again
        ("drop"); never lose it quietly."""
        future = delivery.futures[index]
        reason = str(exc).rstrip(".") or type(exc).__name__
        if self.options["when_handoff_fails"] == "thread":
            counters.record_fallback(self.alias, [delivery.receivers[index]])
            self._log_fallback(
                "Could not hand a receiver run of %s to the %s backend %r (%s); it runs in "
                "this process, on a thread, instead (when_handoff_fails='thread').",
                signal_label(delivery.signal),
                type(self).__name__,
                self.alias,
                reason,
                extra=run_fields(delivery, delivery.receivers[index], self.alias),
            )
            local = delivery.part([index])
            local.futures = [ReceiverFuture()]
            chain_future(local.futures[0], future)
            self.local_backend.submit(local)
            return
        counters.record_dropped(self.alias, [delivery.receivers[index]])
        logger.error(
            "Could not hand a receiver run of %s to the %s backend %r: %s. %s",
            signal_label(delivery.signal),
            type(self).__name__,
            self.alias,
            reason,
            payloads.payload_for_log(payload),
            exc_info=exc,
            extra=run_fields(delivery, delivery.receivers[index], self.alias),
        )
        future.set_exception(exc)

    def running_threads(self) -> int:
        local = self._local
        return 0 if local is None else local.running_threads()

    def close(self, timeout: float | None = None) -> int:
        local = self._local
        return 0 if local is None else local.close(timeout)


#: One WARNING per receiver a worker could not find.
log_runs_here = LogOnce(logging.WARNING)


def _warn_runs_here(receiver: Any, signal: Any, problem: str, alias: str) -> None:
    key = (signal_label(signal), receiver_label(receiver), alias)
    log_runs_here(
        key,
        "The receiver %s of %s %s, so a worker process of the backend %r could not find "
        "it; it runs in this process, on a thread, instead. Connect a module-level "
        "function (or a static or class method) to run it on %r. (Logged once per "
        "receiver; stats()['fallback'] counts its runs.)",
        key[1],
        key[0],
        problem,
        alias,
        alias,
    )
