"""
The arguments of a send as they were at send time: model instances (with
the related objects they had loaded, one level deep) and mutable containers
are copied, so that the caller changing them afterwards, or Django setting a
deleted instance's ``pk`` to None, is not seen by a receiver running later.
"""

from __future__ import annotations

import copy
from typing import Any

from ..internals import model_state_keeps_fields_cache

# Django's Model and ModelState, imported on first use (importing
# eventx_signals must not import the ORM).
_model_class: type | None = None
_model_state_class: type | None = None
# Whether an instance's loaded related objects are copied with it (see
# ``internals``, item 8).
_copy_related = False

# Values of these types are immutable (or, like a model class, not
# snapshotted): the usual keyword arguments of model signals (created, raw,
# using, update_fields=None) are passed on without a closer look.
_SHARED_TYPES = frozenset({bool, int, float, str, bytes, type(None), frozenset, tuple})


def _load_model_classes() -> tuple[type, type]:
    global _model_class, _model_state_class, _copy_related
    from django.db.models import Model
    from django.db.models.base import ModelState

    _copy_related = model_state_keeps_fields_cache()
    _model_class, _model_state_class = Model, ModelState
    return Model, ModelState


def snapshot_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    Return ``kwargs`` with model instances and mutable containers copied, so
    that receivers see them as they were sent: a later ``save()`` or
    ``delete()`` in the caller (which sets the primary key to None) is not
    seen by the receiver. Lists, sets and dicts are copied shallowly, with
    model instances inside them copied too; other values are shared.
    """
    model = _model_class or _load_model_classes()[0]
    snapshot = kwargs
    for key, value in kwargs.items():
        value_type = type(value)
        if value_type in _SHARED_TYPES:
            continue
        if isinstance(value, model):
            copied = copy_instance(value)
        elif value_type is list or value_type is set or value_type is dict:
            copied = _copy_container(value, model)
        else:
            continue
        if snapshot is kwargs:
            snapshot = dict(kwargs)
        snapshot[key] = copied
    return snapshot


def copy_instance(instance: Any, related: bool = True) -> Any:
    """
    Copy a model instance as Django's pickling does (field values, the
    instance's state, prefetched results shared), without the pickle
    protocol's detour through ``apps.get_model()``: about five times cheaper
    than ``copy.copy()``. The related objects it had loaded (its
    ``fields_cache``) are copied too, one level deep (``related``), as the
    out-of-process backends send them: a receiver sees them as they were
    when sent, on every backend.
    """
    model_state = _model_state_class or _load_model_classes()[1]
    old_state = instance.__dict__.get("_state")
    if type(old_state) is not model_state:
        return copy.copy(instance)  # a state of some other kind: be general
    new_state = object.__new__(model_state)
    state_dict = old_state.__dict__.copy()
    fields_cache = state_dict.get("fields_cache")  # internals, item 8
    if fields_cache and _copy_related:
        model = _model_class or _load_model_classes()[0]
        state_dict["fields_cache"] = {
            name: copy_instance(value, related=False)
            if related and isinstance(value, model)
            else value
            for name, value in fields_cache.items()
        }
    new_state.__dict__ = state_dict
    values = instance.__dict__.copy()
    values["_state"] = new_state
    new = object.__new__(instance.__class__)
    new.__dict__ = values
    return new


def _copy_container(value: Any, model: type) -> Any:
    if isinstance(value, model):
        return copy_instance(value)
    value_type = type(value)
    if value_type is list or value_type is set:
        # Most containers hold plain values only: a C-speed look at the
        # types of the items, and a C-speed copy, instead of a Python call
        # per item (3 million integers: 0.07 s instead of 0.55 s).
        if _SHARED_TYPES.issuperset(map(type, value)):
            return value.copy()
        return value_type(_copy_container(item, model) for item in value)
    if value_type is dict:
        if _SHARED_TYPES.issuperset(map(type, value.values())):
            return value.copy()
        return {key: _copy_container(item, model) for key, item in value.items()}
    return value
