"""
The interface every backend implements, and the registry of configured
backends by alias (``EVENTX_BACKENDS``, shaped like Django's ``CACHES`` and
``TASKS``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.signals import setting_changed
from django.utils.connection import BaseConnectionHandler
from django.utils.module_loading import import_string

from ..conf import DEFAULT_BACKEND_ALIAS, DEFAULT_BACKENDS, warn_if_not_installed
from ..exceptions import EventxConfigurationError, InvalidBackend
from ..suggestions import did_you_mean
from ..transactions import submit_on_commit

if TYPE_CHECKING:
    from ..delivery import Delivery

#: Keys an alias of EVENTX_BACKENDS may have.
ALIAS_KEYS = ("BACKEND", "OPTIONS")
#: The dotted paths of the backends django-eventx ships.
BUILT_IN_BACKENDS = (
    "eventx_signals.backends.thread.ThreadBackend",
    "eventx_signals.backends.immediate.ImmediateBackend",
    "eventx_signals.backends.django_tasks.DjangoTasksBackend",
    "eventx_signals.backends.celery.CeleryBackend",
)


class BaseBackend:
    """
    A backend takes a ready ``Delivery`` and arranges for its receivers to run.

    Subclasses declare their options in ``option_defaults`` and validate
    them in ``validate_option``; the system checks call the same code.
    """

    #: Options the backend accepts, with their defaults.
    option_defaults: ClassVar[Mapping[str, Any]] = {}
    #: Made by the EVENTX_BACKENDS registry (not by hand): when the setting
    #: changes, another instance takes over its alias.
    from_settings = False
    #: Whether receivers run in another process, from JSON payloads built
    #: at send time by ``encode()``.
    serializes = False

    def __init__(
        self, alias: str = DEFAULT_BACKEND_ALIAS, options: Mapping[str, Any] | None = None
    ):
        options = dict(options or {})
        errors = self.option_errors(options)
        if errors:
            raise EventxConfigurationError(" ".join(errors))
        self.alias = alias
        self.options = {**self.option_defaults, **options}
        # An instance attribute: every send reads it, and Python 3.11 reads
        # instance attributes faster than class ones.
        self.serializes = type(self).serializes

    @classmethod
    def option_errors(cls, options: Mapping[str, Any]) -> list[str]:
        """Return one sentence per unknown or invalid option."""
        errors = []
        for name, value in options.items():
            if name not in cls.option_defaults:
                known = ", ".join(sorted(cls.option_defaults)) or "none"
                errors.append(
                    f"Unknown option {name!r} for the {cls.__name__} backend; "
                    f"known options: {known}."
                )
            else:
                error = cls.validate_option(name, value)
                if error:
                    errors.append(error)
        return errors

    @classmethod
    def validate_option(cls, name: str, value: Any) -> str | None:
        """Return a sentence describing what is wrong with one value, if anything."""
        return None

    @classmethod
    def alias_warnings(cls, alias: str, options: Mapping[str, Any]) -> list[str]:
        """Sentences on a valid alias that will probably not do what is
        meant (system check W003)."""
        return []

    @classmethod
    def app_ready(cls) -> None:
        """Called once per process from the app's ``ready()`` when an alias
        of EVENTX_BACKENDS uses this class (worker processes included)."""

    def dispatch(self, delivery: Delivery, commit_alias: str | None) -> None:
        """
        Take a delivery at send time: submit it now, or once the transaction
        on the database ``commit_alias`` commits (None: now). A backend
        that must prepare what travels at send time (encode it) does it
        here.
        """
        if commit_alias is None:
            self.submit(delivery)
        else:
            submit_on_commit(delivery, commit_alias, self.submit)

    async def adispatch(self, delivery: Delivery) -> None:
        """Async twin of ``dispatch`` (async code is never inside a
        transaction): submit the delivery now, without blocking the loop."""
        await self.asubmit(delivery)

    def round_trip(self, delivery: Delivery) -> None:
        """Under eager(): give the receivers the arguments as a worker of
        this backend would see them (serialising backends only)."""

    def submit(self, delivery: Delivery) -> None:
        """Arrange for ``delivery`` to run; must not run it in the caller
        unless the backend's policy says so."""
        raise NotImplementedError

    async def asubmit(self, delivery: Delivery) -> None:
        """Async twin of ``submit``; must not block the event loop."""
        raise NotImplementedError

    def running_threads(self) -> int:
        """Threads of this process still running receivers for this backend
        (after ``close()``: those that did not finish in time)."""
        return 0

    def close(self, timeout: float | None = None) -> int:
        """Stop accepting work and let what is queued finish, waiting up to
        ``timeout`` seconds (None: do not wait). Return how many deliveries
        were left unfinished."""
        return 0


def positive_int_error(name: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"Option {name!r} must be a positive integer, not {value!r}."
    return None


def bool_error(name: str, value: Any) -> str | None:
    if not isinstance(value, bool):
        return f"Option {name!r} must be True or False, not {value!r}."
    return None


def seconds_error(name: str, value: Any) -> str | None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        return f"Option {name!r} must be a finite number of seconds >= 0, not {value!r}."
    return None


# -- the registry of aliases ----------------------------------------------------


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

    settings_name = "EVENTX_BACKENDS"
    exception_class = InvalidBackend

    def __init__(self) -> None:
        super().__init__()
        # Instances by alias; read without a lock on every send, written under
        # _lock, emptied (never replaced) when the setting changes.
        self.instances: dict[str | None, BaseBackend] = {}
        self._lock = threading.Lock()

    def configure_settings(self, settings: Any) -> Any:
        from django.conf import settings as django_settings

        if settings is None:
            settings = getattr(django_settings, self.settings_name, DEFAULT_BACKENDS)
        return settings

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


def _reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting == BackendHandler.settings_name:
        backends.reset()


setting_changed.connect(_reset_on_setting_change, dispatch_uid="eventx_signals.backends.reset")
