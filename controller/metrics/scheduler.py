"""Scheduler lag: how late each maintenance job starts, how long it runs, how it ends.

APScheduler tells its listeners when a job is handed to its executor (with the times
it was scheduled for) and when it finished, failed or was missed. Lag is the hand-over
time minus the scheduled time: a controller whose thread pool is starved or whose
host was asleep shows it here before plans stop rolling forward. Wall-clock time,
because that is what APScheduler schedules by.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)

from controller.metrics.registry import SCHEDULER_DURATION, SCHEDULER_LAG, SCHEDULER_RUNS


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SchedulerWatch:
    """An APScheduler listener feeding the ``wardcast_scheduler_*`` metrics."""

    MASK = EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED

    def __init__(self, now: Callable[[], datetime] = _utc_now) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._submitted: dict[str, datetime] = {}

    def __call__(self, event: Any) -> None:
        """Handle one scheduler event (APScheduler's events are untyped)."""
        now = self._now()
        job = str(event.job_id)
        if event.code == EVENT_JOB_SUBMITTED:
            times = event.scheduled_run_times
            if times:
                SCHEDULER_LAG.labels(job).observe(max(0.0, (now - times[-1]).total_seconds()))
            with self._lock:
                self._submitted[job] = now
            return
        if event.code == EVENT_JOB_MISSED:
            SCHEDULER_RUNS.labels(job, "missed").inc()
            return
        SCHEDULER_RUNS.labels(job, "error" if event.code == EVENT_JOB_ERROR else "ok").inc()
        with self._lock:
            started = self._submitted.pop(job, None)
        if started is not None:
            SCHEDULER_DURATION.labels(job).observe(max(0.0, (now - started).total_seconds()))


def watch_scheduler(scheduler: Any) -> SchedulerWatch:
    """Attach a :class:`SchedulerWatch` to an APScheduler scheduler; returns it."""
    watch = SchedulerWatch()
    scheduler.add_listener(watch, SchedulerWatch.MASK)
    return watch
