"""
The JSON payload codec of the backends whose receivers run in another
process. No pickle: a payload can only ever rebuild data, never code.

Plain JSON values travel as they are. Everything else travels as a tagged
object ``{"$t": tag, ...}``:

- model instances as their label, primary key, database and the values of
  their concrete fields at send time, rebuilt with ``Model.from_db()`` (no
  query) or, if asked, read again from the database;
- model classes as their label; other classes already imported by the
  worker as their dotted path (a payload never makes the worker import);
- ``datetime``, ``date``, ``time``, ``timedelta``, ``Decimal``, ``UUID``,
  ``set``, ``frozenset``, ``tuple``, ``bytes``, non-finite floats and dicts
  whose keys are not all strings, so that each comes back as the same type.

Anything else raises ``TypeError`` naming the argument and its type.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import math
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections

#: The key that marks a tagged value; a dict with this key travels tagged.
TAG = "$t"


class PayloadError(ValueError):
    """A payload (or a value in it) that cannot be decoded."""


# -- encoding -------------------------------------------------------------------


def encode_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Encode a send's keyword arguments; a value that cannot travel raises
    ``TypeError`` naming its argument."""
    encoded = {}
    for name, value in kwargs.items():
        try:
            encoded[name] = encode(value)
        except TypeError as exc:
            raise TypeError(
                f"Keyword argument {name!r} cannot be sent to another process: {exc}"
            ) from None
    return encoded


def encode_kwargs_describing(kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Encode the keyword arguments of one of Django's own signals: one that
    cannot travel (``origin``, the QuerySet of a ``QuerySet.delete()``; a
    request) travels as an ``ArgumentDescription`` instead of failing
    Django's code. Return the encoded arguments and the names described."""
    encoded = {}
    described = []
    for name, value in kwargs.items():
        try:
            encoded[name] = encode(value)
        except TypeError:
            encoded[name] = describe(value)
            described.append(name)
    return encoded, described


@dataclass(frozen=True)
class ArgumentDescription:
    """What a worker receives in the place of an argument of one of Django's
    own signals that cannot travel: its type, and for a QuerySet its model,
    database and, if it had been evaluated, the primary keys it held."""

    #: The dotted path of the argument's type.
    type_name: str
    model: type | None = None
    using: str | None = None
    pks: tuple[Any, ...] | None = None


def describe(value: Any) -> dict[str, Any]:
    """The tagged description of a value that cannot travel."""
    value_type = type(value)
    description: dict[str, Any] = {
        TAG: "described",
        "type": f"{value_type.__module__}.{value_type.__qualname__}",
    }
    model = getattr(value, "model", None)
    meta = getattr(model, "_meta", None)
    if meta is not None and hasattr(value, "query") and hasattr(value, "db"):  # a QuerySet
        description["label"] = meta.label
        description["db"] = value.db
        results = value.__dict__.get("_result_cache")  # loaded already: no query here
        if results is not None:
            try:
                description["pks"] = [encode(getattr(row, "pk", None)) for row in results]
            except TypeError:
                pass
    return description


def _decode_description(data: dict[str, Any], refetch: bool) -> ArgumentDescription:
    type_name = data["type"]
    if not isinstance(type_name, str):
        raise PayloadError("a described argument names its type as a string.")
    label = data.get("label")
    pks = data.get("pks")
    using = data.get("db")
    return ArgumentDescription(
        type_name=type_name,
        model=None if label is None else _get_model(label),
        using=using if isinstance(using, str) else None,
        pks=None if pks is None else tuple(_items({"v": pks}, False)),
    )


def encode(value: Any) -> Any:
    """Encode one value into JSON-compatible data, or raise TypeError."""
    value_type = type(value)
    if value_type is str or value_type is int or value_type is bool or value is None:
        return value
    if value_type is float:
        return value if math.isfinite(value) else {TAG: "float", "v": repr(value)}
    if value_type is list:
        return [encode(item) for item in value]
    if value_type is dict:
        if all(type(key) is str for key in value) and TAG not in value:
            return {key: encode(item) for key, item in value.items()}
        return {TAG: "dict", "v": [[encode(key), encode(item)] for key, item in value.items()]}
    encoder = _ENCODERS.get(value_type)
    if encoder is not None:
        return encoder(value)
    if isinstance(value, _model_class or _load_model_class()):
        return _encode_instance(value)
    if isinstance(value, type):
        return _encode_class(value)
    # Subclasses of the JSON types (text and integer choices, SafeString):
    # their plain value.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return encode(float.__float__(value))
    raise TypeError(
        f"values of type {value_type.__module__}.{value_type.__qualname__} are not "
        "supported (JSON types, model instances and classes, dates and times, "
        "Decimal, UUID, set, frozenset, tuple and bytes are)."
    )


# Django's Model, imported on first use (importing this module must not
# import the ORM).
_model_class: type | None = None


def _load_model_class() -> type:
    global _model_class
    from django.db.models import Model

    _model_class = Model
    return Model


def _encode_instance(instance: Any, with_related: bool = True) -> dict[str, Any]:
    meta = instance._meta
    values = instance.__dict__
    fields = {}
    for field in meta.concrete_fields:
        if field.attname not in values:
            continue  # deferred: left deferred in the copy too
        value = values[field.attname]
        if hasattr(value, "field") and hasattr(value, "name") and hasattr(value, "storage"):
            value = value.name  # a FieldFile travels as its file name
        try:
            fields[field.attname] = encode(value)
        except TypeError as exc:
            raise TypeError(f"field {meta.label}.{field.attname}: {exc}") from None
    encoded = {
        TAG: "model",
        "label": meta.label,
        "pk": encode(instance.pk),
        "db": instance._state.db,
        "adding": instance._state.adding,
        "fields": fields,
    }
    related = _encode_related(instance) if with_related else None
    if related:
        encoded["related"] = related
    return encoded


def _encode_related(instance: Any) -> dict[str, Any]:
    """The related objects the instance had loaded (``select_related``, an
    attribute read before the send), one level deep: the worker sees them as
    they were, as a thread-backend receiver does, instead of querying again.
    One that cannot travel is left out (the worker then queries for it)."""
    cache = instance._state.__dict__.get("fields_cache")  # internals, item 8
    if not cache:
        return {}
    model = _model_class or _load_model_class()
    related: dict[str, Any] = {}
    for name, value in cache.items():
        if not isinstance(name, str):
            continue
        if value is None:
            related[name] = None
        elif isinstance(value, model):
            try:
                related[name] = _encode_instance(value, with_related=False)
            except TypeError:
                continue
    return related


def _encode_class(cls: type) -> dict[str, Any]:
    meta = getattr(cls, "_meta", None)
    if meta is not None and issubclass(cls, _model_class or _load_model_class()):
        return {TAG: "modelclass", "label": meta.label}
    if "<locals>" in cls.__qualname__:
        raise TypeError(f"the class {cls.__qualname__} is local to a function.")
    return {TAG: "class", "path": f"{cls.__module__}.{cls.__qualname__}"}


_ENCODERS: dict[type, Callable[[Any], Any]] = {
    tuple: lambda value: {TAG: "tuple", "v": [encode(item) for item in value]},
    set: lambda value: {TAG: "set", "v": [encode(item) for item in value]},
    frozenset: lambda value: {TAG: "frozenset", "v": [encode(item) for item in value]},
    bytes: lambda value: {TAG: "bytes", "v": base64.b64encode(value).decode("ascii")},
    datetime.datetime: lambda value: {TAG: "datetime", "v": value.isoformat()},
    datetime.date: lambda value: {TAG: "date", "v": value.isoformat()},
    datetime.time: lambda value: {TAG: "time", "v": value.isoformat()},
    datetime.timedelta: lambda value: {
        TAG: "timedelta",
        "v": [value.days, value.seconds, value.microseconds],
    },
    decimal.Decimal: lambda value: {TAG: "decimal", "v": str(value)},
    uuid.UUID: lambda value: {TAG: "uuid", "v": str(value)},
}


# -- decoding -------------------------------------------------------------------


def decode_kwargs(data: Any, *, refetch: bool = False) -> dict[str, Any]:
    """Decode what ``encode_kwargs`` made; with ``refetch``, model instances
    are read again from the database (the snapshot if the row is gone)."""
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise PayloadError("the keyword arguments of a payload must be a JSON object.")
    return {name: decode(value, refetch=refetch) for name, value in data.items()}


def decode(data: Any, *, refetch: bool = False) -> Any:
    """Decode one value made by ``encode``."""
    if isinstance(data, list):
        return [decode(item, refetch=refetch) for item in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(TAG)
    if tag is None:
        return {key: decode(item, refetch=refetch) for key, item in data.items()}
    decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
    if decoder is None:
        raise PayloadError(f"unknown value tag {tag!r}.")
    try:
        return decoder(data, refetch)
    except PayloadError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise PayloadError(f"malformed {tag!r} value: {exc!r}.") from exc


def _items(data: dict[str, Any], refetch: bool) -> list[Any]:
    items = data["v"]
    if not isinstance(items, list):
        raise PayloadError("a tagged collection must hold a JSON array.")
    return [decode(item, refetch=refetch) for item in items]


def _decode_dict(data: dict[str, Any], refetch: bool) -> dict[Any, Any]:
    return {
        decode(key, refetch=refetch): decode(value, refetch=refetch) for key, value in data["v"]
    }


def _get_model(label: Any) -> Any:
    if not isinstance(label, str):
        raise PayloadError(f"a model label must be a string, not {label!r}.")
    try:
        return apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise PayloadError(f"no installed model is labelled {label!r}.") from exc


def _decode_instance(data: dict[str, Any], refetch: bool) -> Any:
    model = _get_model(data["label"])
    db = data.get("db")
    fields = data["fields"]
    if not isinstance(fields, dict):
        raise PayloadError("the fields of a model instance must be a JSON object.")
    if refetch and data.get("pk") is not None:
        if db is not None and db not in connections:
            raise PayloadError(f"no database is configured as {db!r}.")
        found = model._base_manager.using(db).filter(pk=decode(data["pk"])).first()
        if found is not None:
            return found
    names = [field.attname for field in model._meta.concrete_fields if field.attname in fields]
    unknown = set(fields) - set(names)
    if unknown:
        raise PayloadError(f"{model._meta.label} has no fields {sorted(unknown)}.")
    from django.db.models import DEFERRED  # the ORM, imported on first use

    values = [
        decode(fields[field.attname]) if field.attname in fields else DEFERRED
        for field in model._meta.concrete_fields
    ]
    instance = model.from_db(db, [f.attname for f in model._meta.concrete_fields], values)
    instance._state.adding = bool(data.get("adding", False))
    related = data.get("related")
    if related is not None:
        instance._state.fields_cache = _decode_related(related)
    return instance


def _decode_related(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PayloadError("the related objects of a model instance must be a JSON object.")
    related = {}
    for name, value in data.items():
        if value is not None and not (isinstance(value, dict) and value.get(TAG) == "model"):
            raise PayloadError(f"the related object {name!r} is not a model instance.")
        related[name] = None if value is None else _decode_instance(value, False)
    return related


def _decode_class(data: dict[str, Any], refetch: bool) -> type:
    # Only a class the worker has imported itself: a payload must never make
    # the worker import a module.
    path = data["path"]
    module_name, _, qualname = str(path).rpartition(".")
    obj: Any = sys.modules.get(module_name)
    while obj is None and "." in module_name:  # a nested class: Outer.Inner
        module_name, _, outer = module_name.rpartition(".")
        qualname = f"{outer}.{qualname}"
        obj = sys.modules.get(module_name)
    if obj is None:
        raise PayloadError(f"the class {path!r} is not imported in this process.")
    for part in qualname.split("."):
        # What is already there, never through getattr(): a module-level
        # __getattr__ (a lazy import) or a descriptor must not run.
        try:
            obj = vars(obj).get(part)
        except TypeError:  # no __dict__
            obj = None
    if not isinstance(obj, type):
        raise PayloadError(f"{path!r} is not a class of an imported module.")
    return obj


def _decode_float(data: dict[str, Any], refetch: bool) -> float:
    value = data["v"]
    if value not in ("nan", "inf", "-inf"):
        raise PayloadError(f"a tagged float must be nan, inf or -inf, not {value!r}.")
    return float(value)


_DECODERS: dict[str, Callable[[dict[str, Any], bool], Any]] = {
    "float": _decode_float,
    "dict": _decode_dict,
    "tuple": lambda data, refetch: tuple(_items(data, refetch)),
    "set": lambda data, refetch: set(_items(data, refetch)),
    "frozenset": lambda data, refetch: frozenset(_items(data, refetch)),
    "bytes": lambda data, refetch: base64.b64decode(data["v"], validate=True),
    "datetime": lambda data, refetch: datetime.datetime.fromisoformat(data["v"]),
    "date": lambda data, refetch: datetime.date.fromisoformat(data["v"]),
    "time": lambda data, refetch: datetime.time.fromisoformat(data["v"]),
    "timedelta": lambda data, refetch: datetime.timedelta(*data["v"]),
    "decimal": lambda data, refetch: decimal.Decimal(data["v"]),
    "uuid": lambda data, refetch: uuid.UUID(data["v"]),
    "model": _decode_instance,
    "modelclass": lambda data, refetch: _get_model(data["label"]),
    "class": _decode_class,
    "described": _decode_description,
}
