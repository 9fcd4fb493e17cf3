"""
Retry policies as values: how many attempts a receiver run gets in all, how
long to wait before each retry (``backoff`` seconds, doubled after each
attempt, never more than ``max_backoff``), and which exception types are
worth a retry. ``EVENTX_RETRY`` and ``@retry(...)`` are both read here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string

from . import validators

#: Keys of EVENTX_RETRY, and the keyword arguments of @retry.
POLICY_KEYS = ("max_attempts", "backoff", "max_backoff", "retry_on")
#: Doublings of the backoff after which it stops growing (2 ** 64 seconds
#: exceeds any max_backoff, and 2 ** 1024 would not fit a float).
MAX_DOUBLINGS = 64


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
    errors += validators.positive_integer(values.get("max_attempts", 1), f"{where}['max_attempts']")
    for key in ("backoff", "max_backoff"):
        errors += validators.seconds(values.get(key, 0), f"{where}[{key!r}]")
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
