"""A controller restart, as ``bench.reports`` times it: the first call in a new process,
and the caches dropped as after a reboot.

The child is ``python -m bench.reports --first-call ...``: a process of its own, so
nothing of the parent (engine, compiled statements, SQLite's page cache) helps it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from bench.reports_calls import scopes, timed_baseline, timed_report
from controller.db.session import Database
from controller.heap import freeze_start_up_heap


def first_call(url: str, label: str, ward: str, now: datetime, baseline: bool) -> float:
    """The first call of a controller process just started: a new process, so nothing of
    this one (engine, compiled statements, SQLite's page cache) helps it."""
    command = [
        sys.executable, "-m", "bench.reports", "--first-call", label, "--url", url,
        "--ward", ward, "--now", now.isoformat(), *(["--baseline"] if baseline else []),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    return float(done.stdout.strip().splitlines()[-1].split("=", 1)[1])


def first_call_here(url: str, label: str, ward: str, now: datetime, baseline: bool) -> None:
    """The child's side of :func:`first_call`: one report (or baseline), its seconds."""
    db = Database(url)
    # As ``wardcast serve`` does once started: the start-up heap is kept out of full
    # collections, so one does not land in the first report (controller/heap.py).
    freeze_start_up_heap()
    scope = next(s for s in scopes(ward) if s.label == label)
    took, _ = timed_baseline(db, scope, ward) if baseline else timed_report(db, scope.request, now)
    print(f"seconds={took:.6f}")
    db.dispose()


def drop_cached(paths: list[Path]) -> None:
    """Ask the kernel to forget these files' cached pages (only theirs: POSIX_FADV_DONTNEED)."""
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
