"""
Retry policies: ``EVENTX_RETRY`` for every receiver, ``@retry(...)`` for one.

A policy says how many attempts a receiver run gets in all, how long to wait
before each retry (``backoff`` seconds, doubled after each attempt, never
more than ``max_backoff``), and which exception types are worth a retry.
The attempt under way is ``current_attempt()`` inside the receiver.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.signals import setting_changed
from django.utils.module_loading import import_string

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute set on a receiver by @retry.
RETRY_MARK = "eventx_retry"
#: Keys of EVENTX_RETRY, and the keyword arguments of @retry.
POLICY_KEYS = ("max_attempts", "backoff", "max_backoff", "retry_on")

#: Doublings of the backoff after which it stops growing (2 ** 64 seconds
#: exceeds any max_backoff).
MAX_DOUBLINGS = 64

_attempt: contextvars.ContextVar[int] = contextvars.ContextVar("eventx_attempt", default=1)


def current_attempt() -> int:
    """The attempt of the receiver run under way: 1 for the first run, 2 for
    the first retry, and so on (use it to make a receiver idempotent)."""
    return _attempt.get()


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and after how long, a failed receiver run is tried again."""

    #: Attempts in all, the first run included; 1 means no retries.
    max_attempts: int = 1
    #: Seconds before the first retry; doubled before each later one.
    backoff: float = 1.0
    #: The longest wait between two attempts, in seconds.
    max_backoff: float = 300.0
    #: Exception types worth a retry; others fail the run at once.
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def delay(self, exc: BaseException, attempt: int) -> float | None:
        """Seconds to wait before the next attempt after ``attempt`` raised
        ``exc``, or None if there is no next attempt."""
        if attempt >= self.max_attempts or not isinstance(exc, self.retry_on):
            return None
        # 2 ** 1024 no longer fits a float: past MAX_DOUBLINGS the backoff
        # is far beyond any max_backoff anyway.
        doublings = min(attempt - 1, MAX_DOUBLINGS)
        return float(min(self.backoff * 2.0**doublings, self.max_backoff))


NO_RETRY = RetryPolicy()


def policy_errors(values: Any, where: str) -> list[str]:
    """One sentence per problem of a policy given as a mapping."""
    if not isinstance(values, Mapping):
        return [f"{where} must be a dict with the keys {', '.join(POLICY_KEYS)}, not {values!r}."]
    errors = [
        f"{where} has the unknown key {key!r}; known keys: {', '.join(POLICY_KEYS)}."
        for key in values
        if key not in POLICY_KEYS
    ]
    attempts = values.get("max_attempts", 1)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        errors.append(f"{where}['max_attempts'] must be a positive integer, not {attempts!r}.")
    for key in ("backoff", "max_backoff"):
        value = values.get(key, 0)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            errors.append(
                f"{where}[{key!r}] must be a finite number of seconds >= 0, not {value!r}."
            )
    try:
        _exception_types(values.get("retry_on", (Exception,)), where)
    except (TypeError, ValueError) as exc:
        errors.append(str(exc))
    return errors


def _exception_types(value: Any, where: str) -> tuple[type[BaseException], ...]:
    items = [value] if isinstance(value, (str, type)) else value
    if not isinstance(items, Iterable):
        raise TypeError(f"{where}['retry_on'] must be a list of exception classes, not {value!r}.")
    types = []
    for item in items:
        if isinstance(item, str):
            try:
                item = import_string(item)
            except ImportError as exc:
                raise ValueError(
                    f"{where}['retry_on'] names {item!r}, which cannot be imported ({exc})."
                ) from None
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise TypeError(f"{where}['retry_on'] must hold exception classes, not {item!r}.")
        types.append(item)
    return tuple(types)


def make_policy(values: Mapping[str, Any], where: str) -> RetryPolicy:
    """Build a policy, raising ValueError with every problem found."""
    errors = policy_errors(values, where)
    if errors:
        raise ValueError(" ".join(errors))
    return RetryPolicy(
        max_attempts=values.get("max_attempts", 1),
        backoff=float(values.get("backoff", 1.0)),
        max_backoff=float(values.get("max_backoff", 300.0)),
        retry_on=_exception_types(values.get("retry_on", (Exception,)), where),
    )


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
        from django.conf import settings

        values = getattr(settings, "EVENTX_RETRY", None)
        try:
            policy = NO_RETRY if values is None else make_policy(values, "EVENTX_RETRY")
        except ValueError:
            policy = NO_RETRY
        _default_policy = policy
    return policy


def policy_for(receiver: Any) -> RetryPolicy:
    """The receiver's own policy, else EVENTX_RETRY."""
    target = getattr(receiver, "eventx_listener", receiver)  # a named event's adapter
    policy = getattr(getattr(target, "__func__", target), RETRY_MARK, None)
    return policy if isinstance(policy, RetryPolicy) else default_policy()


def delay_before_retry(receiver: Any, exc: BaseException, attempt: int) -> float | None:
    """Seconds before the next attempt of ``receiver``, or None for none."""
    return policy_for(receiver).delay(exc, attempt)


def set_attempt(context: contextvars.Context, attempt: int) -> None:
    """Make ``current_attempt()`` return ``attempt`` inside ``context``."""
    context.run(_attempt.set, attempt)


def _reset(*, setting: str, **kwargs: Any) -> None:
    global _default_policy
    if setting == "EVENTX_RETRY":
        _default_policy = None


setting_changed.connect(_reset, dispatch_uid="eventx_signals.retries.reset")
