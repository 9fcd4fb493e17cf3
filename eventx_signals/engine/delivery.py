"""
The unit of work: one send's delivery to its receivers.

A ``Delivery`` holds what the receivers of one ``send()`` need to run later,
elsewhere: the signal, the sender, a snapshot of the keyword arguments, the
receivers in order, one future per receiver, and a copy of the sender's
``contextvars``. ``engine.run`` runs it.
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from . import retries
from .futures import ReceiverFuture


def new_dispatch_id() -> str:
    """
    A random UUID (version 4) as 32 hex digits. The bits come from Python's
    own generator, as OpenTelemetry's SDK makes its trace and span ids, not
    from ``os.urandom()`` as ``uuid.uuid4()`` takes them: a dispatch id
    tells dispatches apart and guards nothing, and a system call per
    dispatch cost more than the rest of a traced send's own work. The
    generator is seeded anew in a forked child (``random`` sees to it), so
    that workers forked from one parent make ids of their own.
    """
    bits = random.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    return f"{bits:032x}"


class Delivery:
    """
    Everything needed to run the receivers of one ``send()`` later, elsewhere.

    ``receivers[async_from:]`` are coroutine functions; ``context`` is a copy
    of the sender's contextvars, entered for every receiver of the delivery.
    """

    __slots__ = (
        "signal",
        "sender",
        "kwargs",
        "receivers",
        "async_from",
        "futures",
        "context",
        "robust",
        "attempt",
        "encoded",
        "queued_at",
        "trace",
        "_dispatch_id",
    )
    #: The JSON payloads of a serialising backend, set at send time (None
    #: for a receiver that runs in this process instead).
    encoded: list[dict[str, Any] | None]
    _dispatch_id: str

    def __init__(
        self,
        signal: Any,
        sender: Any,
        kwargs: dict[str, Any],
        receivers: list[Callable[..., Any]],
        async_from: int,
        robust: bool,
    ) -> None:
        self.signal = signal
        self.sender = sender
        self.kwargs = kwargs
        self.receivers = receivers
        self.async_from = async_from
        self.futures = (
            [ReceiverFuture()] if len(receivers) == 1 else [ReceiverFuture() for _ in receivers]
        )
        self.context = contextvars.copy_context()
        self.robust = robust
        #: 1 for a first run; a retry's delivery holds one receiver and the
        #: number of its attempt.
        self.attempt = 1
        #: When it was sent (``time.time()``): the queue lag is measured
        #: from there.
        self.queued_at: float = time.time()
        #: The OpenTelemetry context of the dispatch's span, when traced.
        self.trace: Any = None
        # ``encoded``: set by backends that send the delivery to another
        # process (see ``backends.out_of_process``), at send time.

    def __len__(self) -> int:
        return len(self.receivers)

    @property
    def dispatch_id(self) -> str:
        """The id of the dispatch this delivery runs receivers of (a UUID,
        as 32 hex digits), shared by its parts and later attempts; made on
        first use, since most sends never need it."""
        try:
            return self._dispatch_id
        except AttributeError:
            self._dispatch_id = new_dispatch_id()
            return self._dispatch_id

    @dispatch_id.setter
    def dispatch_id(self, value: str) -> None:
        self._dispatch_id = value

    def responses(self) -> list[tuple[Any, Future[Any]]]:
        """``[(receiver, future), ...]``, what ``send()`` returns."""
        if len(self.receivers) == 1:
            return [(self.receivers[0], self.futures[0])]
        return list(zip(self.receivers, self.futures))

    def cancel(self) -> None:
        """Cancel the futures of receivers that have not started."""
        for future in self.futures:
            future.cancel()

    def part(self, indexes: list[int]) -> Delivery:
        """A delivery of the receivers at ``indexes`` only, sharing their
        futures, the arguments and the sender's context."""
        piece = self._copy()
        piece.receivers = [self.receivers[index] for index in indexes]
        piece.async_from = sum(1 for index in indexes if index < self.async_from)
        piece.futures = [self.futures[index] for index in indexes]
        return piece

    def next_attempt(self, index: int) -> Delivery:
        """A delivery of the next attempt of receiver ``index``, sharing its
        future, its arguments and a copy of the sender's context."""
        following = self._copy()
        following.receivers = [self.receivers[index]]
        following.async_from = 0 if index >= self.async_from else 1
        following.futures = [self.futures[index]]
        following.context = self.context.copy()
        following.attempt = self.attempt + 1
        retries.set_attempt(following.context, following.attempt)
        return following

    def _copy(self) -> Delivery:
        copied: Delivery = Delivery.__new__(Delivery)
        copied.signal = self.signal
        copied.sender = self.sender
        copied.kwargs = self.kwargs
        copied.context = self.context
        copied.robust = self.robust
        copied.attempt = self.attempt
        copied.queued_at = self.queued_at
        copied.trace = self.trace
        copied.dispatch_id = self.dispatch_id
        return copied


#: Called with the delivery of a retry and the seconds to wait before it.
RetryLater = Callable[[Delivery, float], None]
