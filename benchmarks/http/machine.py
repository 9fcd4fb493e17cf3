"""
Busy CPU time of the whole machine (all processes: gunicorn, PostgreSQL, the
load client, and whatever else runs on a shared box), from /proc/stat; and
the CPU time of process trees (gunicorn, the workers, PostgreSQL), from
/proc/<pid>/stat, to say where it goes.

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


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces.
    return text[text.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds of the processes ``pids`` and all their descendants: each
    live process's own time plus that of its children already reaped
    (cutime, cstime), so a short-lived child (a PostgreSQL backend of one
    request) counts once its parent has waited for it. NaN off Linux."""
    if not os.path.isdir("/proc"):
        return math.nan
    tree = _children()
    total = 0
    seen: set[int] = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        fields = _stat_fields(pid)
        if fields is None:
            continue
        # utime stime cutime cstime: fields 14-17 of stat, 12-15 here.
        total += sum(int(v) for v in fields[11:15])
        stack += tree.get(pid, [])
    return total / _TICKS_PER_SECOND


def _comm(pid: int | str) -> str:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return ""


def postmaster_pids() -> list[int]:
    """Processes named postgres whose parent is not: the PostgreSQL servers
    of this machine (empty if PostgreSQL runs elsewhere)."""
    if not os.path.isdir("/proc"):
        return []
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _comm(entry) == "postgres":
            fields = _stat_fields(int(entry))
            if fields is not None and _comm(fields[1]) != "postgres":
                found.append(int(entry))
    return found


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (e.g. redis-server)."""
    if not os.path.isdir("/proc"):
        return []
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and _comm(e) == name]
