"""
Test-side adapters that turn django-eventx's ``[(receiver, future)]`` back
into Django's ``[(receiver, value)]`` by waiting for every future.

They exist only so that Django's own assertions on what ``send()`` returns
can be applied to background dispatch. Receivers still run on the
backend's worker threads; only the caller waits for them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import types
from typing import Any

import django.dispatch

from eventx_signals import AsyncSignal

#: Seconds to wait for the futures of one dispatch before failing the test.
TIMEOUT = float(os.environ.get("EVENTX_COMPAT_FUTURE_TIMEOUT", "60"))


def _check_futures(
    pairs: Any, where: str, strict: bool = True
) -> list[concurrent.futures.Future[Any]]:
    """
    Return the futures of ``[(receiver, future), ...]``. With ``strict``,
    every value must be a future; otherwise values that are not (receivers a
    patched signal ran inline, as Django would) are allowed.
    """
    if not isinstance(pairs, list):
        raise AssertionError(f"{where} returned {type(pairs).__name__}, not a list")
    futures = []
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise AssertionError(f"{where} returned {pair!r}, not a (receiver, future) pair")
        if isinstance(pair[1], concurrent.futures.Future):
            futures.append(pair[1])
        elif strict:
            raise AssertionError(
                f"{where} returned {pair[1]!r} for receiver {pair[0]!r}, "
                "not a concurrent.futures.Future"
            )
    return futures


def _unwrap(pairs: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    # Every future is done: result() returns at once, and raises the first
    # failing receiver's exception as Django's send() would (robust variants
    # resolve to the exception instance instead, so they never raise here).
    return [
        (receiver, value.result() if isinstance(value, concurrent.futures.Future) else value)
        for receiver, value in pairs
    ]


def resolve(pairs: Any, where: str = "send()", strict: bool = True) -> list[tuple[Any, Any]]:
    """Wait for every future of one dispatch, then return Django's result."""
    futures = _check_futures(pairs, where, strict)
    _, pending = concurrent.futures.wait(futures, timeout=TIMEOUT)
    if pending:
        raise TimeoutError(
            f"{len(pending)} of {len(futures)} receivers of {where} did not finish "
            f"within {TIMEOUT} seconds"
        )
    return _unwrap(pairs)


async def aresolve(
    pairs: Any, where: str = "asend()", strict: bool = True
) -> list[tuple[Any, Any]]:
    """Async twin of ``resolve``: waits without blocking the event loop."""
    futures = _check_futures(pairs, where, strict)
    if futures:
        wrapped = [asyncio.wrap_future(future) for future in futures]
        _, pending = await asyncio.wait(wrapped, timeout=TIMEOUT)
        for item in wrapped:  # mark outcomes as retrieved (no "never retrieved" noise)
            if item.done() and not item.cancelled():
                item.exception()
        if pending:
            raise TimeoutError(
                f"{len(pending)} of {len(futures)} receivers of {where} did not "
                f"finish within {TIMEOUT} seconds"
            )
    return _unwrap(pairs)


class AwaitingAsyncSignal(AsyncSignal):
    """
    An AsyncSignal whose send methods wait for their futures and return
    ``[(receiver, result_or_exception)]`` like ``django.dispatch.Signal``.

    Mode "asyncsignal" substitutes it for ``Signal`` in Django's test modules.
    """

    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return resolve(super().send(sender, **named), "AsyncSignal.send()")

    def send_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return resolve(super().send_robust(sender, **named), "AsyncSignal.send_robust()")

    async def asend(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return await aresolve(await super().asend(sender, **named), "AsyncSignal.asend()")

    async def asend_robust(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return await aresolve(
            await super().asend_robust(sender, **named), "AsyncSignal.asend_robust()"
        )


class _AwaitingDispatchModule(types.ModuleType):
    """``django.dispatch`` with ``Signal`` replaced by ``AwaitingAsyncSignal``
    (for test modules that do ``from django import dispatch``)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(django.dispatch, name)


awaiting_dispatch = _AwaitingDispatchModule(
    "django.dispatch", "django.dispatch, with Signal = AwaitingAsyncSignal (eventx compat tests)"
)
awaiting_dispatch.Signal = AwaitingAsyncSignal  # type: ignore[attr-defined]


# -- mode "patched" -----------------------------------------------------------

_SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")


def await_patched_signal(signal: Any, label: str) -> None:
    """
    Wrap, on the instance and with wrapt like ``patch_signal`` itself, the
    send methods that ``patch_signal`` installed on ``signal``, so that each
    waits for its futures and returns Django's ``[(receiver, value)]``. The
    patched methods stay underneath: receivers still run on worker threads.
    Values that are not futures (receivers the patch runs inline, e.g.
    ``m2m_changed``'s ``pre_*`` actions) are passed through.
    """
    import wrapt

    for name in _SEND_METHODS:
        where = f"{label}.{name}()"
        wrapper = _async_waiter(where) if name.startswith("a") else _sync_waiter(where)
        wrapt.wrap_function_wrapper(signal, name, wrapper)


def _sync_waiter(where: str) -> Any:
    def send(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
        return resolve(wrapped(*args, **kwargs), where, strict=False)

    return send


def _async_waiter(where: str) -> Any:
    async def asend(wrapped: Any, instance: Any, args: tuple, kwargs: dict) -> Any:
        return await aresolve(await wrapped(*args, **kwargs), where, strict=False)

    return asend
