"""Copy the arguments of a dispatch so receivers see them as they were sent."""

from __future__ import annotations

import copy
from typing import Any

_model_class: type | None = None


def _model() -> type:
    # Imported on first use: importing eventx_signals must not import the ORM.
    global _model_class
    if _model_class is None:
        from django.db.models import Model

        _model_class = Model
    return _model_class


def snapshot_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    Return ``kwargs`` with model instances and mutable containers copied.

    Model instances are copied the way Django copies them for pickling (field
    values and the state of the instance, related-object caches shallowly),
    so a later ``save()`` or ``delete()`` in the caller, which sets the
    primary key to None, is not seen by the receiver. Lists, sets and dicts
    are copied shallowly, with model instances inside them copied too.
    """
    if not kwargs:
        return kwargs
    model = _model()
    snapshot = kwargs
    for key, value in kwargs.items():
        copied = _snapshot_value(value, model)
        if copied is not value:
            if snapshot is kwargs:
                snapshot = dict(kwargs)
            snapshot[key] = copied
    return snapshot


def _snapshot_value(value: Any, model: type) -> Any:
    if isinstance(value, model):
        return copy.copy(value)
    value_type = type(value)
    if value_type is list or value_type is set:
        return value_type(_snapshot_value(item, model) for item in value)
    if value_type is dict:
        return {key: _snapshot_value(item, model) for key, item in value.items()}
    return value
