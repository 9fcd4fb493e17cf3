"""Resolving backends by name or dotted path, once per configuration."""

from __future__ import annotations

import threading
from typing import Any

from django.utils.module_loading import import_string

from ..conf import BACKEND_ALIASES, conf
from ..exceptions import EventxConfigurationError
from .base import BaseBackend

__all__ = [
    "BaseBackend",
    "backend_instances",
    "get_backend",
    "load_backend_class",
    "reset_backends",
]

# Backend instances by name; emptied (never replaced) when EVENTX_BACKEND or
# EVENTX_BACKEND_OPTIONS changes, so that the send path may read it directly.
backend_instances: dict[str | None, BaseBackend] = {}
_lock = threading.Lock()


def load_backend_class(name: Any) -> type[BaseBackend]:
    """Import the backend class for an alias or a dotted path."""
    if not isinstance(name, str) or not name:
        raise EventxConfigurationError(
            f"EVENTX_BACKEND must be a backend name or a dotted path, not {name!r}."
        )
    path = BACKEND_ALIASES.get(name, name)
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        choices = ", ".join(repr(alias) for alias in BACKEND_ALIASES)
        raise EventxConfigurationError(
            f"Cannot import backend {name!r} ({exc}); use one of {choices} "
            "or the dotted path of a BaseBackend subclass."
        ) from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, BaseBackend)):
        raise EventxConfigurationError(
            f"Backend {name!r} is not a subclass of eventx_signals.backends.BaseBackend."
        )
    return backend_class


def get_backend(name: str | None = None) -> BaseBackend:
    """
    Return the backend instance for ``name`` (None: EVENTX_BACKEND).

    EVENTX_BACKEND_OPTIONS configure the backend that EVENTX_BACKEND names;
    another backend named per signal gets its default options.
    """
    try:
        return backend_instances[name]
    except KeyError:
        pass
    with _lock:
        backend = backend_instances.get(name)
        if backend is None:
            default = conf.BACKEND
            wanted = default if name is None else name
            options = conf.BACKEND_OPTIONS if wanted == default else {}
            if not isinstance(options, dict):
                raise EventxConfigurationError(
                    f"EVENTX_BACKEND_OPTIONS must be a dict, not {type(options).__name__}."
                )
            backend = backend_instances[name] = load_backend_class(wanted)(**options)
        return backend


def reset_backends() -> None:
    """Forget backend instances; queued work of the old ones still runs."""
    with _lock:
        old = list(backend_instances.values())
        backend_instances.clear()
    for backend in old:
        backend.close()
