"""Maintenance on a clock: APScheduler 3 with its job store in the controller's database.

Standing jobs: recompile every device's plan, so the 48-hour horizon rolls
forward and date-bound content (validity, queue dates) comes and goes on time;
ask devices again for evidence missing from their chains; re-sum the report days
that evidence and plans marked dirty, so no report waits for its sums; and sum any
day never summed (after an upgrade or an import) — at start, then daily. Jobs live in the same
database as everything else, so a restarted controller picks up its schedule; a run
missed while it was down is coalesced into one, and the controller also recompiles
once at start, so nothing waits for the next tick.

The jobs see only :class:`MaintenanceJobs`, never the whole controller.

Replicas (several controllers on one PostgreSQL, docs/scale.md) run the jobs on one
of them only: the one holding the advisory lock of ``leadership``. The others check
every ``leader_poll_s`` and take over when the leader is gone; a leader that loses
the lock's connection pauses its scheduler. On SQLite the one process leads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from controller.leadership import Leadership
from controller.metrics.scheduler import watch_scheduler

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
RECOMPILE_JOB = "recompile-plans"
GAP_JOB = "request-evidence-gaps"
ROLLUP_JOB = "keep-report-sums-current"
BACKFILL_JOB = "backfill-report-sums"


class MaintenanceJobs(Protocol):
    """What the scheduled jobs may do."""

    def recompile_plans(self) -> int:
        """Recompile every plan and publish what changed; returns plans published."""
        ...

    def request_evidence_gaps(self) -> int:
        """Ask devices to resend events missing from their chains; returns devices asked."""
        ...

    def keep_rollups_current(self) -> int:
        """Re-sum the report days marked dirty and the recent ones; returns ward-days."""
        ...

    def backfill_rollups(self) -> int:
        """Sum every report day never summed; returns ward-days summed."""
        ...


# APScheduler stores a job as an importable "module:function" reference (the job
# store is the database), so a job cannot hold an object: it finds its target here.
_jobs: MaintenanceJobs | None = None


def _run(what: str, work: Callable[[MaintenanceJobs], int], done: str, quiet: bool) -> None:
    """Run one job's work on the current controller, logging (never raising) a failure.

    A job that raises would be logged by APScheduler without our words and, worse,
    nothing says the next run retries; ``done`` is logged with the count (only when
    non-zero if ``quiet``).
    """
    jobs = _jobs
    if jobs is None:
        log.warning("%s ran with no controller; skipped", what)
        return
    try:
        count = work(jobs)
    except Exception:
        log.exception("%s failed; the next run will try again", what)
        return
    if count or not quiet:
        log.info(done, count)


def recompile_all() -> None:
    """The recompile job: refresh every device's plan and publish what changed."""
    _run(
        "scheduled recompilation",
        lambda jobs: jobs.recompile_plans(),
        "scheduled recompilation: %d plans changed",
        quiet=False,
    )


def request_evidence_gaps() -> None:
    """The gap job: ask devices again for events missing from their chains."""
    _run(
        "evidence gap requests",
        lambda jobs: jobs.request_evidence_gaps(),
        "asked %d devices again for missing evidence",
        quiet=True,
    )


def keep_rollups_current() -> None:
    """The rollup job: re-sum the days new evidence and plans marked dirty."""
    _run(
        "re-summing report days",
        lambda jobs: jobs.keep_rollups_current(),
        "report sums: %d ward-days re-summed",
        quiet=True,
    )


def backfill_rollups() -> None:
    """The backfill job: sum the days an upgrade or an import left unsummed."""
    _run(
        "backfilling report sums",
        lambda jobs: jobs.backfill_rollups(),
        "report sums backfilled: %d ward-days",
        quiet=True,
    )


class Maintenance:
    """Starts and stops the scheduler for one set of jobs."""

    def __init__(
        self,
        engine: Engine,
        jobs: MaintenanceJobs,
        *,
        recompile_interval_s: int,
        gap_request_interval_s: int,
        rollup_interval_s: int = 60,
        rollup_backfill_interval_s: int = 86_400,
        leadership: Leadership | None = None,
        leader_poll_s: float = 10.0,
    ) -> None:
        self._jobs = jobs
        self.leadership = leadership or Leadership(engine)
        self._poll_s = leader_poll_s
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._recompile_s = recompile_interval_s
        self._gap_s = gap_request_interval_s
        self._rollup_s = rollup_interval_s
        self._backfill_s = rollup_backfill_interval_s
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone="UTC",
        )
        watch_scheduler(self.scheduler)  # wardcast_scheduler_lag_seconds and friends

    def try_lead(self) -> bool:
        """Whether this replica runs the scheduled jobs (taking the lead if free)."""
        return self.leadership.try_lead()

    def start(self) -> None:
        """Run the jobs if this replica leads; else watch for the lead to come free."""
        global _jobs
        _jobs = self._jobs
        if self.try_lead():
            self._run_jobs()
        else:
            log.info("another replica runs the scheduled jobs; this one stands by")
        if self.leadership.shared:
            self._stopping.clear()
            self._watcher = threading.Thread(
                target=self._watch_lead, name="wardcast-leadership", daemon=True
            )
            self._watcher.start()

    def _watch_lead(self) -> None:
        while not self._stopping.wait(self._poll_s):
            try:
                if self.leadership.leading:
                    if not self.leadership.still_leading() and self.scheduler.running:
                        self.scheduler.pause()  # another replica may lead now
                elif self.leadership.try_lead():
                    self._run_jobs()
            except Exception:  # the watch must outlive one bad turn
                log.exception("checking the lead failed; trying again")

    def _run_jobs(self) -> None:
        """Register the jobs (replacing stored ones) and start or resume them."""
        if self.scheduler.running:
            self.scheduler.resume()
            return
        # Paused first: jobs added before start() would stay in memory, not the store.
        self.scheduler.start(paused=True)
        self._every(recompile_all, self._recompile_s, RECOMPILE_JOB)
        self._every(request_evidence_gaps, self._gap_s, GAP_JOB)
        self._every(keep_rollups_current, self._rollup_s, ROLLUP_JOB)
        # First run now: an upgrade or an import is summed before the first report.
        self._every(backfill_rollups, self._backfill_s, BACKFILL_JOB, first_run=datetime.now(UTC))
        self.scheduler.resume()

    def _every(
        self,
        job: Callable[[], None],
        seconds: int,
        job_id: str,
        first_run: datetime | None = None,
    ) -> None:
        """Store ``job`` to run every ``seconds``, replacing the stored job of that id."""
        # By reference ("controller.maintenance:recompile_all"): the store is the database.
        when = {} if first_run is None else {"next_run_time": first_run}  # None would pause it
        self.scheduler.add_job(
            f"{__name__}:{job.__name__}",
            "interval",
            seconds=seconds,
            id=job_id,
            replace_existing=True,
            **when,
        )

    def stop(self) -> None:
        """Stop without waiting for a running job (it is idempotent); give up the lead."""
        global _jobs
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(5)
            self._watcher = None
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.leadership.step_down()
        if _jobs is self._jobs:
            _jobs = None
