"""Figures every benchmark prints: percentiles, the load average, peak memory (of
this process, or of another and its children: ``TreeMemory``).

Apart from ``bench.common`` so that a bench's child process that only times a query
(``bench.reports --first-call``) starts without importing the whole controller (1.2 s).
"""

from __future__ import annotations

import os
import resource
import threading
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


class TreeMemory(threading.Thread):
    """Samples the PSS of a process and its children every 20 ms; keeps the peak.

    PSS, not RSS: forked signature workers share the verifier's pages, and a sum of
    RSS would count those pages once per process.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mib = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._done.wait(0.02):
            self.peak_mib = max(self.peak_mib, sum(_pss_kib(p) for p in _tree(self.pid)) / 1024)

    def stop(self) -> None:
        """Stop sampling."""
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue  # gone since: nothing to count
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
    except (OSError, ValueError):
        return 0
