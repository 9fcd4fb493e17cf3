"""
The backends configured in ``EVENTX_BACKENDS`` (shaped like Django's
``CACHES`` and ``TASKS``), one instance per alias, and what makes an alias
unusable (the checks report it; a send on it raises).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.connection import BaseConnectionHandler
from django.utils.module_loading import import_string

from ..config import changes
from ..config.installation import warn_if_not_installed
from ..config.settings import BACKENDS, DEFAULT_BACKEND_ALIAS
from ..config.suggestions import did_you_mean
from ..exceptions import EventxConfigurationError, InvalidBackend
from .base import BaseBackend

#: Keys an alias of EVENTX_BACKENDS may have.
ALIAS_KEYS = ("BACKEND", "OPTIONS")
#: The dotted paths of the backends django-eventx ships.
BUILT_IN_BACKENDS = (
    "eventx_signals.backends.thread.ThreadBackend",
    "eventx_signals.backends.immediate.ImmediateBackend",
    "eventx_signals.backends.django_tasks.DjangoTasksBackend",
    "eventx_signals.backends.celery.CeleryBackend",
)


def load_backend_class(path: Any, alias: str) -> type[BaseBackend]:
    """Import the BACKEND of ``alias``, or raise EventxConfigurationError."""
    where = f"EVENTX_BACKENDS[{alias!r}]['BACKEND']"
    if not isinstance(path, str) or not path:
        raise EventxConfigurationError(
            f"{where} must be the dotted path of a backend class, not {path!r}."
        )
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        suggestion = did_you_mean(path, BUILT_IN_BACKENDS) or f" ({exc})"
        raise EventxConfigurationError(
            f"{where} is {path!r}, which cannot be imported{suggestion}; use "
            "'eventx_signals.backends.thread.ThreadBackend' or the dotted path of "
            "another BaseBackend subclass."
        ) from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, BaseBackend)):
        raise EventxConfigurationError(
            f"{where} is {path!r}, which is not a subclass of eventx_signals.backends.BaseBackend."
        )
    return backend_class


def alias_errors(alias: Any, params: Any) -> list[str]:
    """Every problem of one EVENTX_BACKENDS entry, one sentence each."""
    if not isinstance(alias, str):
        return [f"EVENTX_BACKENDS keys must be alias names (str), not {alias!r}."]
    if not isinstance(params, Mapping):
        return [
            f"EVENTX_BACKENDS[{alias!r}] must be a dict with 'BACKEND' and "
            f"optional 'OPTIONS', not {type(params).__name__}."
        ]
    errors = [
        f"EVENTX_BACKENDS[{alias!r}] has the unknown key {key!r}; use only 'BACKEND' and 'OPTIONS'."
        for key in params
        if key not in ALIAS_KEYS
    ]
    try:
        backend_class = load_backend_class(params.get("BACKEND"), alias)
    except EventxConfigurationError as exc:
        return [*errors, str(exc)]
    options = params.get("OPTIONS", {})
    if not isinstance(options, Mapping):
        return [
            *errors,
            f"EVENTX_BACKENDS[{alias!r}]['OPTIONS'] must be a dict, not {type(options).__name__}.",
        ]
    errors += (
        f"EVENTX_BACKENDS[{alias!r}]['OPTIONS']: {error}"
        for error in backend_class.option_errors(options)
    )
    return errors


if TYPE_CHECKING:  # django-stubs make it generic; Django's class is not
    _ConnectionHandler = BaseConnectionHandler[BaseBackend]
else:
    _ConnectionHandler = BaseConnectionHandler


class BackendHandler(_ConnectionHandler):
    """
    The backends configured in EVENTX_BACKENDS, one instance per alias,
    created on first use and shared by every thread; replaced (the old one
    finishing its queue) when the setting changes.
    """

    settings_name = BACKENDS.name
    exception_class = InvalidBackend

    def __init__(self) -> None:
        super().__init__()
        # Instances by alias; read without a lock on every send, written under
        # _lock, emptied (never replaced) when the setting changes.
        self.instances: dict[str | None, BaseBackend] = {}
        self._lock = threading.Lock()

    def configure_settings(self, settings: Any) -> Any:
        return BACKENDS.raw() if settings is None else settings

    def create_connection(self, alias: str) -> BaseBackend:
        errors = alias_errors(alias, self.settings[alias])
        if errors:
            raise EventxConfigurationError(" ".join(errors))
        params = self.settings[alias]
        backend_class = load_backend_class(params["BACKEND"], alias)
        backend = backend_class(alias, params.get("OPTIONS", {}))
        backend.from_settings = True
        return backend

    def __getitem__(self, alias: str | None) -> BaseBackend:
        try:
            return self.instances[alias]
        except KeyError:
            pass
        warn_if_not_installed()
        name = DEFAULT_BACKEND_ALIAS if alias is None else alias
        with self._lock:
            # None (a signal naming no alias) and "default" share one instance.
            backend = self.instances.get(name)
            if backend is None:
                settings = self.settings
                if not isinstance(settings, Mapping) or name not in settings:
                    known = ", ".join(map(repr, settings)) if isinstance(settings, Mapping) else ""
                    raise InvalidBackend(
                        f"The backend alias {name!r} is not defined in EVENTX_BACKENDS; "
                        f"define it there or use one of: {known or 'none'}."
                    )
                backend = self.instances[name] = self.create_connection(name)
            self.instances[alias] = backend
            return backend

    def all(self, initialized_only: bool = False) -> list[BaseBackend]:
        if initialized_only:
            return list({id(b): b for b in self.instances.values()}.values())
        return [self[alias] for alias in self]

    def close_all(self, timeout: float | None = None) -> None:
        for backend in self.all(initialized_only=True):
            backend.close(timeout)

    def reset(self, timeout: float | None = None) -> list[BaseBackend]:
        """Forget the instances and the settings; the old backends finish
        what they had queued, waited for up to ``timeout`` seconds (None:
        not waited for). Return the old backends."""
        with self._lock:
            old = list({id(b): b for b in self.instances.values()}.values())
            self.instances.clear()
            self.__dict__.pop("settings", None)
            self._settings = None
        deadline = None if timeout is None else time.monotonic() + timeout
        for backend in old:
            backend.close(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return old


backends = BackendHandler()


def _reset_on_setting_change(setting: str) -> None:
    backends.reset()


changes.on_change(_reset_on_setting_change, BACKENDS.name)
