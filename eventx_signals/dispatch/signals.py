"""
``AsyncSignal``: a ``django.dispatch.Signal`` whose ``send()`` returns at
once, its receivers running on a backend (``dispatch.sending``).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from ..backends.base import BaseBackend
from ..core.registry import registry
from ..internals import HAS_SENDER_CACHE, NO_RECEIVERS, caller_module
from .sending import Responses, asend_in_background, send_in_background


class AsyncSignal(Signal):
    """
    A ``django.dispatch.Signal`` whose ``send()`` returns at once.

    Each receiver runs later on the backend of the alias ``backend`` of
    EVENTX_BACKENDS (default: ``"default"``). ``send()`` returns
    ``[(receiver, future), ...]``: each future resolves to the receiver's
    return value or raises its exception. Inside ``transaction.atomic()``
    receivers run only after commit unless ``on_commit=False`` (default:
    EVENTX_ON_COMMIT).

    Receivers run in Django's order: synchronous receivers in connection
    order, then ``async def`` receivers in connection order.
    """

    def __init__(
        self,
        use_caching: bool = False,
        *,
        backend: str | BaseBackend | None = None,
        on_commit: bool | None = None,
    ) -> None:
        super().__init__(use_caching=use_caching)
        if not (backend is None or isinstance(backend, (str, BaseBackend))):
            raise TypeError(
                "AsyncSignal() backend must be an alias of EVENTX_BACKENDS (str) "
                f"or a backend instance, not {type(backend).__name__}."
            )
        if isinstance(backend, str) and not backend:
            raise ValueError("AsyncSignal() backend must not be an empty alias.")
        if not (on_commit is None or isinstance(on_commit, bool)):
            raise TypeError(
                f"AsyncSignal() on_commit must be True, False or None, not {on_commit!r}."
            )
        self.backend = backend
        self.on_commit = on_commit
        # The module that defines the signal, to name it in logs.
        self.eventx_module = caller_module(1)
        if not HAS_SENDER_CACHE:
            self.sender_receivers_cache = {}
        registry.add_async_signal(self)

    def send(self, sender: Any, **named: Any) -> Responses:  # type: ignore[override]
        """
        Queue every live receiver and return ``[(receiver, future), ...]``
        without waiting for any of them.
        """
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return send_in_background(self, sender, named, False, self.backend, self.on_commit)

    def send_robust(self, sender: Any, **named: Any) -> Responses:  # type: ignore[override]
        """
        Like ``send()``, but each future resolves to the exception instance a
        failing receiver raised instead of raising it (and the failure is also
        logged to Django's ``django.dispatch`` logger, as ``send_robust`` does).
        """
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return send_in_background(self, sender, named, True, self.backend, self.on_commit)

    async def asend(self, sender: Any, **named: Any) -> Responses:  # type: ignore[override]
        """Async twin of ``send()``; never blocks the event loop on receivers."""
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return await asend_in_background(self, sender, named, False, self.backend, self.on_commit)

    async def asend_robust(self, sender: Any, **named: Any) -> Responses:  # type: ignore[override]
        """Async twin of ``send_robust()``."""
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return await asend_in_background(self, sender, named, True, self.backend, self.on_commit)
