"""
The settings layer: every ``EVENTX_*`` setting, read lazily (so that
``override_settings`` works), with its default and validator, the parsing
of ``EVENTX_ASYNC_SIGNALS``, the table of system check ids, and the one
``setting_changed`` receiver that tells the other layers what changed.

It imports nothing of the package but ``exceptions``: every other layer may
import it, the codemod included.
"""
