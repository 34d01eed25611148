"""Maintenance on a clock: APScheduler 3 with its job store in the controller's database.

The one standing job recompiles every device's plan, so the 48-hour horizon rolls
forward and date-bound content (validity, queue dates) comes and goes on time.
Jobs live in the same database as everything else, so a restarted controller picks
up its schedule; a run missed while it was down is coalesced into one, and the
controller also recompiles once at start, so nothing waits for the next tick.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

if TYPE_CHECKING:
    from controller.composition import ControllerRuntime

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
RECOMPILE_JOB = "recompile-plans"
GAP_JOB = "request-evidence-gaps"

# APScheduler stores a job as an importable "module:function" reference, so the job
# cannot hold the runtime itself: it finds it here.
_runtime: ControllerRuntime | None = None


def recompile_all() -> None:
    """The recompile job: refresh every device's plan and publish what changed."""
    runtime = _runtime
    if runtime is None:
        log.warning("recompile job ran with no controller runtime; skipped")
        return
    try:
        changed = runtime.recompile()
        log.info("scheduled recompilation: %d plans changed", changed)
    except Exception:
        log.exception("scheduled recompilation failed; the next run will try again")


def request_evidence_gaps() -> None:
    """The gap job: ask devices again for events missing from their chains."""
    runtime = _runtime
    if runtime is None:
        return
    try:
        asked = runtime.request_gaps()
        if asked:
            log.info("asked %d devices again for missing evidence", asked)
    except Exception:
        log.exception("evidence gap requests failed; the next run will try again")


class Maintenance:
    """Starts and stops the scheduler for one runtime."""

    def __init__(self, runtime: ControllerRuntime) -> None:
        self._runtime = runtime
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=runtime.db.engine, tablename=JOBS_TABLE)
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone="UTC",
        )

    def start(self) -> None:
        """Register the jobs (replacing stored ones) and start."""
        global _runtime
        _runtime = self._runtime
        # Paused first: jobs added before start() would stay in memory, not the store.
        self.scheduler.start(paused=True)
        self.scheduler.add_job(
            "controller.maintenance:recompile_all",
            "interval",
            seconds=self._runtime.settings.recompile_interval_s,
            id=RECOMPILE_JOB,
            replace_existing=True,
        )
        self.scheduler.add_job(
            "controller.maintenance:request_evidence_gaps",
            "interval",
            seconds=self._runtime.settings.gap_request_interval_s,
            id=GAP_JOB,
            replace_existing=True,
        )
        self.scheduler.resume()

    def stop(self) -> None:
        """Stop without waiting for a running job (it is idempotent)."""
        global _runtime
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if _runtime is self._runtime:
            _runtime = None
