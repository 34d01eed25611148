"""What a controller's jobs and its devices do to the database around the timed calls of
``bench.reports``: the backfill job after the import, late evidence for an old day marked
dirty as ``record_event`` marks it, and the rollups of a reused database forgotten.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from sqlalchemy import delete, select

from controller.db.models import PlannedPlay, PlaybackEvidence
from controller.db.models.rollups import (
    ReportRollupDay,
    ReportRollupDirty,
    ReportRollupState,
)
from controller.db.session import Database
from controller.domain.reports.rollups import (
    DEVICE_LEVEL,
    MONTH_LEVEL,
    WARD_LEVEL,
    RollupRules,
    backfill,
    mark,
)


def late_evidence(db: Database, ward: str, day: date, received: datetime) -> None:
    """One more confirmation arriving late for an old day, marked as ``record_event`` marks."""
    with db.session() as session:
        play = session.scalar(
            select(PlannedPlay)
            .where(
                PlannedPlay.ward_code == ward,
                PlannedPlay.planned_start >= datetime(day.year, day.month, day.day, tzinfo=UTC),
            )
            .order_by(PlannedPlay.planned_start)
            .limit(1)
        )
        assert play is not None
        session.add(
            PlaybackEvidence(
                device_id=play.device_id, ward_code=ward, group_code=play.group_code,
                event_id=f"late-{time.time_ns()}", seq=10_000_000 + time.time_ns() % 1_000_000,
                prev_hash="", digest="late", item_id=f"late-{time.time_ns()}", broadcast_id="late",
                trigger="manual", priority="normal", source_level="commune",
                planned_start=play.planned_start, planned_duration_s=10.0,
                actual_start=play.planned_start, played_duration_s=10.0, outcome="completed",
                recorded_at=play.planned_start, received_at=received,
                signed="{}", sig="late",
            )
        )  # fmt: skip
        session.flush()
        mark(session, ward, play.planned_start)


def forget_rollups(db: Database) -> None:
    """Empty the rollups of a reused database: as if it had just been imported."""
    with db.session() as session:
        tables = (
            *DEVICE_LEVEL, *WARD_LEVEL, *MONTH_LEVEL, ReportRollupDay, ReportRollupState,
            ReportRollupDirty,
        )  # fmt: skip
        for table in tables:
            session.execute(delete(table))


def backfill_job(db: Database, now: datetime) -> int:
    """The backfill job, as ``ControllerRuntime.backfill_rollups`` runs it."""
    summed = 0
    with db.session() as session:
        for done in backfill(session, now, RollupRules()):
            session.commit()
            summed += done
    return summed
