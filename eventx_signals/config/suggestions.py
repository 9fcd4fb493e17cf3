"""Suggestions ("did you mean …?") for a mistyped model label, signal path or
backend alias in the settings."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable

from django.apps import apps
from django.dispatch import Signal

#: How close a candidate must be to count as what was meant (0 to 1).
CUTOFF = 0.75

#: Where Django defines the signals an EVENTX_ASYNC_SIGNALS entry usually names.
DJANGO_SIGNAL_MODULES = (
    "django.db.models.signals",
    "django.core.signals",
    "django.db.backends.signals",
    "django.contrib.auth.signals",
    "django.test.signals",
)


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the candidate closest to ``value``,
    ignoring case, or an empty string if none is close."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=CUTOFF)
    return f" (did you mean {by_lower[matches[0]]!r}?)" if matches else ""


def model_labels() -> list[str]:
    """The label of every installed model."""
    return [model._meta.label for model in apps.get_models(include_auto_created=True)]


def signal_paths_near(path: str) -> list[str]:
    """Dotted paths of the signals of the module ``path`` points into if it
    can be imported, else of Django's own signal modules."""
    module_name = path.rpartition(".")[0]
    for names in ([module_name] if module_name else [], DJANGO_SIGNAL_MODULES):
        found = []
        for name in names:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            found += [
                f"{name}.{attribute}"
                for attribute, value in vars(module).items()
                if isinstance(value, Signal)
            ]
        if found:
            return found
    return []
