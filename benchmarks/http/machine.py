"""
Busy CPU time of the whole machine (all processes: gunicorn, PostgreSQL, the
load client, and whatever else runs on a shared box), from /proc/stat.

In a closed loop on a saturated 2-core machine, latency follows CPU per
request; this number shows where a mode's extra latency comes from.
"""

from __future__ import annotations

import math
import os

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def busy_cpu_seconds() -> float:
    """Seconds of CPU spent not idle, summed over cores; NaN off Linux."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return math.nan
    # user nice system idle iowait irq softirq steal [guest guest_nice]:
    # guest time is already counted in user and nice.
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / _TICKS_PER_SECOND
