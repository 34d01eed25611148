"""Report sums are kept current where changes are written: dirty ward-days, re-summed early.

The scene (tests/unit/test_bundles_support.py) delivers its events through the fake
broker, so they are stored by ``record_event`` exactly as a real device's are.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import create_engine, select

from controller.db.models import PlaybackEvidence, Ward
from controller.domain.reports.rollups import (
    RollupRules,
    ensure_rollups,
    invalidate_changed,
    keep_current,
)
from controller.domain.reports.rollups.dirty import clear, mark, marks
from controller.maintenance import BACKFILL_JOB, ROLLUP_JOB, Maintenance
from tests.unit.test_bundles_support import DAY_START, WARD_A, Scene, scene

__all__ = ["scene"]  # the fixture, imported for pytest

DAY = date(2026, 3, 2)  # DAY_START in the ward's own calendar
RULES = RollupRules()


def ward_a_report_resums(scene: Scene) -> int:
    """Ward-days a report of ward A over its day (and the next) had to re-sum."""
    h, _ = scene
    with h.runtime.db.session() as session:
        ward = session.get(Ward, WARD_A)
        assert ward is not None
        return ensure_rollups(session, [ward], DAY, DAY + timedelta(days=1), h.clock.now(), RULES)


def test_stored_evidence_marks_its_day_and_the_job_sums_it_before_a_report(
    scene: Scene,
) -> None:
    h, chains = scene
    with h.runtime.db.session() as session:
        assert (WARD_A, DAY) in {(w, d) for _, w, d in marks(session)}
        assert keep_current(session, h.clock.now(), RULES) > 0
        assert marks(session) == []
    assert ward_a_report_resums(scene) == 0  # the report finds every day summed
    chains.send("to-2", DAY_START + timedelta(hours=9))  # late evidence for that day
    with h.runtime.db.session() as session:
        assert [(w, d) for _, w, d in marks(session)] == [(WARD_A, DAY)]
    assert ward_a_report_resums(scene) == 1  # that day alone, lazily, and the mark goes
    with h.runtime.db.session() as session:
        assert marks(session) == []


def test_a_mark_made_while_the_day_was_being_summed_stays(scene: Scene) -> None:
    h, _ = scene
    with h.runtime.db.session() as session:
        read = marks(session, [WARD_A], DAY, DAY)
    with h.runtime.db.session() as session:  # meanwhile, another event for that day
        mark(session, WARD_A, DAY_START + timedelta(hours=3))
    with h.runtime.db.session() as session:
        clear(session, read)
        assert [(w, d) for _, w, d in marks(session, [WARD_A], DAY, DAY)] == [(WARD_A, DAY)]


def test_one_transaction_marks_a_day_once_and_a_rollback_takes_its_mark(scene: Scene) -> None:
    h, _ = scene
    with h.runtime.db.session() as session:
        clear(session, marks(session))
    with h.runtime.db.session() as session:
        for hour in range(3):
            mark(session, WARD_A, DAY_START + timedelta(hours=hour))
        assert len(marks(session)) == 1
        session.rollback()
        assert marks(session) == []
        mark(session, WARD_A, DAY_START)
        assert len(marks(session)) == 1


def test_a_recompile_that_changes_nothing_marks_nothing(scene: Scene) -> None:
    h, _ = scene
    with h.runtime.db.session() as session:
        clear(session, marks(session))
    h.runtime.plans.recompile()
    with h.runtime.db.session() as session:
        assert marks(session) == []


def test_rows_written_around_the_domain_are_found_by_the_watermark(scene: Scene) -> None:
    h, _ = scene
    with h.runtime.db.session() as session:
        keep_current(session, h.clock.now(), RULES)
        row = session.scalars(select(PlaybackEvidence).where(PlaybackEvidence.seq == 2)).first()
        assert row is not None
        # An import: a row copied in with SQL, no domain code, so no mark of its own.
        copy = {c.key: getattr(row, c.key) for c in PlaybackEvidence.__table__.columns}
        copy.update(id=None, event_id="imported", seq=99, device_id=row.device_id)
        copy["received_at"] = h.clock.now()
        session.add(PlaybackEvidence(**copy))
    h.clock._now += timedelta(minutes=5)
    with h.runtime.db.session() as session:
        invalidate_changed(session, h.clock.now(), RULES)
        assert (WARD_A, DAY) in {(w, d) for _, w, d in marks(session)}
        keep_current(session, h.clock.now(), RULES)
        assert marks(session) == []
    assert ward_a_report_resums(scene) == 0


def test_the_controller_runs_both_jobs_and_schedules_them(scene: Scene) -> None:
    h, _ = scene
    assert h.runtime.backfill_rollups() > 0  # the scene's days, never summed before
    assert h.runtime.backfill_rollups() == 0  # summed once
    h.runtime.keep_rollups_current()
    with h.runtime.db.session() as session:
        assert marks(session) == []
    maintenance = Maintenance(
        create_engine("sqlite://"), h.runtime, recompile_interval_s=600, gap_request_interval_s=60
    )
    maintenance.start()
    try:
        jobs = {job.id for job in maintenance.scheduler.get_jobs()}
        assert {ROLLUP_JOB, BACKFILL_JOB} <= jobs
    finally:
        maintenance.stop()
