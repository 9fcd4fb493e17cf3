"""
Django's built-in signals as the codemod sorts them: the model signals worth making
asynchronous, each with the caveat to print, and the signals that must stay synchronous,
with the reason for each: ``config.async_signals.MUST_STAY_SYNCHRONOUS``, the list the
EVENTX_ASYNC_SIGNALS setting and its checks use.
"""

from __future__ import annotations

from ..config.async_signals import MUST_STAY_SYNCHRONOUS

__all__ = ["MAY_BECOME_ASYNCHRONOUS", "MUST_STAY_SYNCHRONOUS", "SIGNAL_ALIASES"]

_M = "django.db.models.signals."
_VETO = "receivers that mutate the instance or veto the {} lose their meaning in the background"
# Built-in model signals worth making asynchronous -> the caveat to print ("" if none).
MAY_BECOME_ASYNCHRONOUS = {
    _M + "pre_save": _VETO.format("save"),
    _M + "post_save": "",
    _M + "pre_delete": _VETO.format("delete"),
    _M + "post_delete": "",
    _M + "m2m_changed": "",
}
# Other import paths of the same signal objects.
SIGNAL_ALIASES = {"django.test.signals.setting_changed": "django.core.signals.setting_changed"}
