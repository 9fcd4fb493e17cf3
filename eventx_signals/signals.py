"""AsyncSignal: a Django Signal whose receivers run in the background."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from django.dispatch import Signal
from django.dispatch.dispatcher import NO_RECEIVERS

from .backends import BaseBackend, get_backend
from .conf import cached
from .dispatch import Dispatch
from .snapshot import snapshot_kwargs
from .transactions import atomic_alias, submit_on_commit


class AsyncSignal(Signal):
    """
    A ``django.dispatch.Signal`` whose ``send()`` returns at once.

    Each receiver runs later on ``backend`` (a name, a dotted path or a
    backend instance; default: ``EVENTX_BACKEND``). ``send()`` returns
    ``[(receiver, future), ...]``: each future resolves to the receiver's
    return value or raises its exception. Inside ``transaction.atomic()``
    receivers run only after commit unless ``on_commit=False`` (default:
    ``EVENTX_ON_COMMIT``).

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
                "AsyncSignal(backend=...) must be a backend name, a dotted path "
                f"or a BaseBackend instance, not {type(backend).__name__}."
            )
        if not (on_commit is None or isinstance(on_commit, bool)):
            raise TypeError(
                f"AsyncSignal(on_commit=...) must be True, False or None, not {on_commit!r}."
            )
        self.backend = backend
        self.on_commit = on_commit

    # -- sending ------------------------------------------------------------

    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Future[Any]]]:  # type: ignore[override]
        """
        Queue every live receiver and return ``[(receiver, future), ...]``
        without waiting for any of them.
        """
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return self._send(sender, named, robust=False)

    def send_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Future[Any]]]:  # type: ignore[override]
        """
        Like ``send()``, but each future resolves to the exception instance a
        failing receiver raised instead of raising it (and the failure is also
        logged to Django's ``django.dispatch`` logger, as ``send_robust`` does).
        """
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        return self._send(sender, named, robust=True)

    async def asend(self, sender: Any, **named: Any) -> list[tuple[Any, Future[Any]]]:  # type: ignore[override]
        """Async twin of ``send()``; never blocks the event loop on receivers."""
        return await self._asend(sender, named, robust=False)

    async def asend_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Future[Any]]]:  # type: ignore[override]
        """Async twin of ``send_robust()``."""
        return await self._asend(sender, named, robust=True)

    def _send(
        self, sender: Any, named: dict[str, Any], robust: bool
    ) -> list[tuple[Any, Future[Any]]]:
        dispatch = self._prepare(sender, named, robust)
        if dispatch is None:
            return []
        backend, alias = self._route(named)
        if alias is None:
            backend.submit(dispatch)
        else:
            submit_on_commit(dispatch, alias, backend.submit)
        return list(zip(dispatch.receivers, dispatch.futures))

    async def _asend(
        self, sender: Any, named: dict[str, Any], robust: bool
    ) -> list[tuple[Any, Future[Any]]]:
        if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
            return []
        dispatch = self._prepare(sender, named, robust=robust)
        if dispatch is None:
            return []
        backend, alias = self._route(named)
        if alias is None:
            await backend.asubmit(dispatch)
        else:
            submit_on_commit(dispatch, alias, backend.submit)
        return list(zip(dispatch.receivers, dispatch.futures))

    # -- helpers ----------------------------------------------------------

    def _prepare(self, sender: Any, named: dict[str, Any], robust: bool) -> Dispatch | None:
        sync_receivers, async_receivers = self._live_receivers(sender)
        if not sync_receivers and not async_receivers:
            return None
        return Dispatch(
            self,
            sender,
            snapshot_kwargs(named),
            sync_receivers + async_receivers if async_receivers else sync_receivers,
            len(sync_receivers),
            robust,
        )

    def _route(self, named: dict[str, Any]) -> tuple[BaseBackend, str | None]:
        """Return the backend, and the alias whose commit to wait for (if any)."""
        backend = self.backend
        if not isinstance(backend, BaseBackend):
            backend = get_backend(backend)
        on_commit = self.on_commit
        if on_commit is None:
            on_commit = cached("ON_COMMIT")
        return backend, atomic_alias(named.get("using")) if on_commit else None
