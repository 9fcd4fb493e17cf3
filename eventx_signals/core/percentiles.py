"""The nearest-rank percentile, for the figures of ``stats()`` and
``eventx stats``."""

from __future__ import annotations

import math
from collections.abc import Sequence


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The value at ``fraction`` (0 to 1) of ``ordered``, values sorted in
    increasing order, at least one."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
