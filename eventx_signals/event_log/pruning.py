"""
Deleting event log rows older than the retention (EVENTX_RECORD_RETENTION_DAYS):
by the writer once an hour, and by ``manage.py eventx prune``.
"""

from __future__ import annotations

import datetime

#: The default of EVENTX_RECORD_RETENTION_DAYS.
DEFAULT_RETENTION_DAYS = 14


def retention_days() -> float:
    """EVENTX_RECORD_RETENTION_DAYS (the default for a bad value, which the
    checks report)."""
    from django.conf import settings

    value = getattr(settings, "EVENTX_RECORD_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return DEFAULT_RETENTION_DAYS
    return float(value)


def prune(older_than_days: float) -> int:
    """Delete runs that finished more than ``older_than_days`` days ago."""
    from django.utils import timezone

    from ..models import ReceiverRun

    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    deleted, _ = ReceiverRun.objects.filter(finished_at__lt=cutoff).delete()
    return int(deleted)
