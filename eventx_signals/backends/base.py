"""The interface every backend implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..dispatch import Dispatch
from ..exceptions import EventxConfigurationError


class BaseBackend:
    """
    A backend takes a ready dispatch and arranges for its receivers to run.

    Subclasses declare their options in ``option_defaults`` and validate
    them in ``validate_option``; the system checks call the same code.
    """

    #: Receivers run in this process (so futures complete here).
    runs_in_process: ClassVar[bool] = True
    #: Options the backend accepts, with their defaults.
    option_defaults: ClassVar[Mapping[str, Any]] = {}
    #: The backend takes no options and ignores EVENTX_BACKEND_OPTIONS, so
    #: that switching to it (in tests, say) keeps the production options.
    ignores_options: ClassVar[bool] = False

    def __init__(self, **options: Any) -> None:
        if self.ignores_options:
            options = {}
        errors = self.option_errors(options)
        if errors:
            raise EventxConfigurationError(" ".join(errors))
        self.options = {**self.option_defaults, **options}

    @classmethod
    def option_errors(cls, options: Mapping[str, Any]) -> list[str]:
        """Return one sentence per unknown or invalid option."""
        if cls.ignores_options:
            return []
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

    def submit(self, dispatch: Dispatch) -> None:
        """Arrange for ``dispatch`` to run; must not run it in the caller
        unless the backend's policy says so."""
        raise NotImplementedError

    async def asubmit(self, dispatch: Dispatch) -> None:
        """Async twin of ``submit``; must not block the event loop."""
        raise NotImplementedError

    def close(self, timeout: float | None = None) -> None:
        """Stop accepting work and let what is queued finish."""


def positive_int_error(name: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"Option {name!r} must be a positive integer, not {value!r}."
    return None


def non_negative_number_error(name: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return f"Option {name!r} must be a number of seconds >= 0, not {value!r}."
    return None
