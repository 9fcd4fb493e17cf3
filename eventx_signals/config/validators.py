"""
What a value of a setting or an option must be, each as a function that
returns one sentence per problem (an empty list when the value is fine).
The settings, the backends' options and the retry policies share them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

#: Takes the value and the name to call it by; returns the problems.
Validator = Callable[[Any, str], list[str]]


def boolean(value: Any, name: str) -> list[str]:
    if isinstance(value, bool):
        return []
    return [f"{name} must be True or False, not {value!r}."]


def seconds(value: Any, name: str) -> list[str]:
    """A finite number of seconds >= 0."""
    if is_number(value) and math.isfinite(value) and value >= 0:
        return []
    return [f"{name} must be a finite number of seconds >= 0, not {value!r}."]


def positive_seconds(value: Any, name: str) -> list[str]:
    """A finite number of seconds > 0."""
    if is_number(value) and math.isfinite(value) and value > 0:
        return []
    return [f"{name} must be a finite number of seconds > 0, not {value!r}."]


def days(value: Any, name: str) -> list[str]:
    """A finite number of days > 0."""
    if is_number(value) and math.isfinite(value) and value > 0:
        return []
    return [f"{name} must be a finite number of days > 0, not {value!r}."]


def positive_integer(value: Any, name: str) -> list[str]:
    if is_integer(value) and value >= 1:
        return []
    return [f"{name} must be a positive integer, not {value!r}."]


def natural_integer(value: Any, name: str) -> list[str]:
    """An integer >= 0."""
    if is_integer(value) and value >= 0:
        return []
    return [f"{name} must be an integer >= 0, not {value!r}."]


def integer_between(low: int, high: int, *, optional: bool = False) -> Validator:
    def validate(value: Any, name: str) -> list[str]:
        if (optional and value is None) or (is_integer(value) and low <= value <= high):
            return []
        none = " or None" if optional else ""
        return [f"{name} must be an integer from {low} to {high}{none}, not {value!r}."]

    return validate


def non_empty_string(*, optional: bool = False) -> Validator:
    def validate(value: Any, name: str) -> list[str]:
        if (optional and value is None) or (isinstance(value, str) and value):
            return []
        none = " or None" if optional else ""
        return [f"{name} must be a non-empty string{none}, not {value!r}."]

    return validate


def one_of(choices: Sequence[str]) -> Validator:
    def validate(value: Any, name: str) -> list[str]:
        if value in choices:
            return []
        listed = ", ".join(repr(choice) for choice in choices)
        return [f"{name} must be one of {listed}, not {value!r}."]

    return validate


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
