"""Figures every benchmark prints: percentiles, the load average, peak memory.

Apart from ``bench.common`` so that a bench's child process that only times a query
(``bench.reports --first-call``) starts without importing the whole controller (1.2 s).
"""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(values: Sequence[float]) -> str:
    """'p50 … p99 … max …' in milliseconds, from seconds."""
    return (
        f"p50 {percentile(values, 50) * 1000:8.1f} ms  p99 {percentile(values, 99) * 1000:8.1f} ms"
        f"  max {max(values) * 1000:8.1f} ms  (n={len(values)})"
    )


def load1() -> float:
    """The 1-minute load average (the machine is shared: every figure carries it)."""
    return os.getloadavg()[0]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
