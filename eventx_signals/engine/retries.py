"""
Retries of failed receiver runs: ``EVENTX_RETRY`` for every receiver,
``@retry(...)`` for one (the policies themselves: ``config.retry_policy``).
The attempt under way is ``current_attempt()`` inside the receiver.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..config import changes
from ..config.retry_policy import NO_RETRY, RetryPolicy, make_policy
from ..config.settings import RETRY

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on a receiver by @retry.
RETRY_MARK = "eventx_retry"

_attempt: contextvars.ContextVar[int] = contextvars.ContextVar("eventx_attempt", default=1)


def current_attempt() -> int:
    """The attempt of the receiver run under way: 1 for the first run, 2 for
    the first retry, and so on (use it to make a receiver idempotent)."""
    return _attempt.get()


def set_attempt(context: contextvars.Context, attempt: int) -> None:
    """Make ``current_attempt()`` return ``attempt`` inside ``context``."""
    context.run(_attempt.set, attempt)


def retry(
    *,
    max_attempts: int,
    backoff: float = 1.0,
    max_backoff: float = 300.0,
    retry_on: Iterable[type[BaseException] | str] = (Exception,),
) -> Callable[[F], F]:
    """
    Give one receiver its own retry policy, overriding EVENTX_RETRY. It sets
    an attribute on the function and returns the function itself, so it can
    sit above or below ``@receiver``.
    """
    policy = make_policy(
        {
            "max_attempts": max_attempts,
            "backoff": backoff,
            "max_backoff": max_backoff,
            "retry_on": retry_on,
        },
        "retry()",
    )

    def decorator(func: F) -> F:
        setattr(getattr(func, "__func__", func), RETRY_MARK, policy)
        return func

    return decorator


# -- the policy of one receiver ---------------------------------------------------

_default_policy: RetryPolicy | None = None


def default_policy() -> RetryPolicy:
    """EVENTX_RETRY as a policy (no retries when unset or invalid: the
    system checks report an invalid value)."""
    global _default_policy
    policy = _default_policy
    if policy is None:
        values = RETRY.value()
        policy = _default_policy = NO_RETRY if values is None else make_policy(values, RETRY.name)
    return policy


def _forget_default_policy(setting: str) -> None:
    global _default_policy
    _default_policy = None


changes.on_change(_forget_default_policy, RETRY.name)


def policy_for(receiver: Any) -> RetryPolicy:
    """The receiver's own policy, else EVENTX_RETRY."""
    target = getattr(receiver, "eventx_listener", receiver)  # a named event's adapter
    policy = getattr(getattr(target, "__func__", target), RETRY_MARK, None)
    return policy if isinstance(policy, RetryPolicy) else default_policy()


def delay_before_retry(receiver: Any, exc: BaseException, attempt: int) -> float | None:
    """Seconds before the next attempt of ``receiver``, or None for none."""
    return policy_for(receiver).delay(exc, attempt)
