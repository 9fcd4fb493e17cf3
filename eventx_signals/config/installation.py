"""Whether the app is installed: without it, the settings do not apply."""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger("eventx_signals")

#: Set by AppConfig.ready().
app_ready = False
_installation_checked = False


def warn_if_not_installed() -> None:
    """
    Once per process, on the first send: if EVENTX_ settings exist but the
    app is not installed, say what is silently skipped.
    """
    global _installation_checked
    if _installation_checked or app_ready:
        return
    _installation_checked = True
    try:
        names = sorted(name for name in dir(settings) if name.startswith("EVENTX_"))
    except Exception:  # settings not configured: nothing to warn about
        return
    if names:
        logger.warning(
            "%s set, but 'eventx_signals' is not in INSTALLED_APPS: EVENTX_ASYNC_SIGNALS "
            "is not applied, listeners modules are not imported and the system checks "
            "do not run. Add 'eventx_signals' to INSTALLED_APPS.",
            ", ".join(names),
        )
