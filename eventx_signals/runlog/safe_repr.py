"""
A ``repr`` of a receiver's keyword arguments (EVENTX_RECORD_KWARGS) that
runs none of their own code: a ``__repr__`` or ``__str__`` may query the
database (a model's ``__str__`` reading a related object), take long or
raise, and recording happens on the receiver's thread.

Known types are shown as ``repr`` shows them, by the built-in code of their
base type (so a ``str`` or ``int`` subclass, a ``TextChoices`` member say,
shows its value): ``None``, ``bool``, numbers, ``str``, ``bytes``,
``Decimal``, ``UUID``, dates, times and durations, and lists, tuples, sets
and dicts of these, ``MAX_ITEMS`` items and ``MAX_DEPTH`` levels at most. A
model instance is ``<app_label.Model pk=...>`` (its loaded primary key only),
a class its dotted path, anything else ``<module.Type object>``.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
import zoneinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Items shown of one list, tuple, set or dict; levels of nesting shown.
MAX_ITEMS = 50
MAX_DEPTH = 4

# Types whose repr() is the standard library's own, for an instance of the
# exact type (a subclass may override __repr__).
_PLAIN = frozenset(
    {type(None), bool, complex, decimal.Decimal, uuid.UUID, datetime.date, datetime.timedelta}
)
# Time zones whose repr() is the standard library's own.
_ZONES = (datetime.timezone, zoneinfo.ZoneInfo)


def safe_repr(value: Any, limit: int) -> str:
    """``value`` as text, running none of its code; rendering stops once
    ``limit`` characters are written (cut the result to ``limit``)."""
    parts: list[str] = []
    _Renderer(parts, limit).render(value, 0)
    return "".join(parts)


def type_name(value: Any) -> str:
    """``<module.Type object>``, from the type itself (``type()`` cannot be
    overridden, unlike ``__class__``)."""
    kind = type(value)
    return f"<{kind.__module__}.{kind.__qualname__} object>"


class _Renderer:
    def __init__(self, parts: list[str], limit: int) -> None:
        self.parts = parts
        self.left = limit

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.left -= len(text)

    def render(self, value: Any, depth: int) -> None:
        if self.left <= 0:
            return
        try:
            text = self.scalar(value)
        except Exception:  # e.g. an int too long to show: never the receiver's problem
            text = type_name(value)
        if text is not None:
            self.write(text)
        elif depth >= MAX_DEPTH:
            self.write("...")
        else:
            try:
                self.container(value, depth)
            except Exception:  # a set another thread changed meanwhile, say
                self.write("...")

    def scalar(self, value: Any) -> str | None:
        """The text of a value that holds no others; None for a container.
        Types are tested with issubclass(type(value), ...), never
        isinstance(): isinstance() also asks the value's ``__class__``,
        which a lazy object (``SimpleLazyObject``: ``request.user``)
        answers by evaluating itself."""
        kind = type(value)
        if kind in _PLAIN:
            return repr(value)
        if kind is datetime.datetime or kind is datetime.time:
            zone = value.tzinfo
            return repr(value) if zone is None or type(zone) in _ZONES else type_name(value)
        if issubclass(kind, str):
            return str.__repr__(str.__getitem__(value, slice(0, max(self.left, 0))))
        if issubclass(kind, bytes):
            return bytes.__repr__(bytes.__getitem__(value, slice(0, max(self.left, 0))))
        if issubclass(kind, int):
            return int.__repr__(value)
        if issubclass(kind, float):
            return float.__repr__(value)
        if issubclass(kind, (list, tuple, set, frozenset, dict)):
            return None
        if issubclass(kind, type):
            module = type.__getattribute__(value, "__module__")
            return f"{module}.{type.__getattribute__(value, '__qualname__')}"
        return _model_instance(kind, value) or type_name(value)

    def container(self, value: Any, depth: int) -> None:
        kind = type(value)
        is_dict = issubclass(kind, dict)
        items: Iterator[Any]
        if is_dict:
            opening, closing, items = "{", "}", iter(dict.items(value))
        elif issubclass(kind, list):
            opening, closing, items = "[", "]", list.__iter__(value)
        elif issubclass(kind, tuple):
            opening, closing, items = "(", ")", tuple.__iter__(value)
            if tuple.__len__(value) == 1:
                closing = ",)"
        elif issubclass(kind, frozenset):
            opening, closing, items = "frozenset({", "})", frozenset.__iter__(value)
            if not frozenset.__len__(value):
                opening, closing = "frozenset(", ")"
        else:
            opening, closing, items = "{", "}", set.__iter__(value)
            if not set.__len__(value):
                opening, closing = "set(", ")"
        self.write(opening)
        for index, item in enumerate(items):
            if self.left <= 0:
                return
            if index:
                self.write(", ")
            if index == MAX_ITEMS:
                self.write("...")
                break
            if is_dict:
                self.render(item[0], depth + 1)
                self.write(": ")
                self.render(item[1], depth + 1)
            else:
                self.render(item, depth + 1)
        self.write(closing)


def _model_instance(kind: type, value: Any) -> str | None:
    """``<app_label.Model pk=...>`` for a model instance, from its class's
    label and the primary key value it holds (no descriptor, no related
    object, no query)."""
    from django.db.models import Model  # the ORM, imported on first use

    if not issubclass(kind, Model):
        return None
    meta = kind._meta
    held = vars(value)
    # A composite primary key (Django 5.2+) is a tuple of its fields' values.
    values = tuple(held.get(field.attname) for field in getattr(meta, "pk_fields", [meta.pk]))
    pk = values[0] if len(values) == 1 else values
    return f"<{meta.label} pk={safe_repr(pk, 100)}>"
