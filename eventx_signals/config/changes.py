"""
The one ``setting_changed`` receiver of django-eventx: what each layer
remembers of a setting is forgotten when the setting changes (tests that use
``override_settings``), through the listeners the layers register here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed

#: Called with the name of the setting that changed.
Listener = Callable[[str], None]

# (setting names, listener); an empty set: every EVENTX_ setting.
_listeners: list[tuple[frozenset[str], Listener]] = []


def on_change(listener: Listener, *names: str) -> None:
    """Call ``listener(name)`` when one of the settings ``names`` changes
    (no names: any ``EVENTX_`` setting)."""
    _listeners.append((frozenset(names), listener))


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    for names, listener in list(_listeners):
        if setting in names or (not names and setting.startswith("EVENTX_")):
            listener(setting)


# Connected at import rather than in AppConfig.ready(), so that the caches
# are also reset in projects that use AsyncSignal without the app.
setting_changed.connect(_setting_changed, dispatch_uid="eventx_signals.config.changes")
