"""When a summed day must be summed again: markers, dirty marks, watermarks on the raw tables.

A day is stale when it was never summed, or summed under other rules (tolerance,
deadline, time zone); when it is marked dirty — by the transaction that stored evidence
or a planned play for it (:mod:`.dirty`), or by the watermarks on the two tables' ids,
which only grow because evidence is append-only and catch rows written around the
domain (an import, another tool); or when it was summed while it could still change (before
its end plus ``seal_after_s``) and is older than ``freshness_s``: "pending" turns
into "missed" as time passes, and the planner still edits today's and tomorrow's
plays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from controller.db.models import PlannedPlay, PlaybackEvidence
from controller.db.models.rollups import ReportRollupDay, ReportRollupState
from controller.db.types import UtcDateTime
from controller.domain.reports.periods import day_start_utc
from controller.domain.reports.rollups.dirty import mark_days
from controller.domain.reports.rollups.judging import RollupRules
from controller.domain.reports.sqlfn import is_sqlite, utc_date

IN_CHUNK = 400  # ward codes per IN list: far below every driver's parameter limit


def in_chunks(items: Sequence[str], size: int = IN_CHUNK) -> Iterable[Sequence[str]]:
    """``items`` in slices short enough for one IN list."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def is_stale(
    marker: Row[Any] | None, zone: str, day: date, now: datetime, rules: RollupRules
) -> bool:
    """Whether local ``day`` of a ward in ``zone``, summed as ``marker`` says, must be re-summed."""
    if marker is None:
        return True
    if (
        marker.timezone != zone
        or marker.tolerance_s != rules.tolerance_s
        or marker.deadline_s != rules.deadline_s
    ):
        return True
    computed: datetime = marker.computed_at
    day_end = day_start_utc(day + timedelta(days=1), zone)
    if computed >= day_end + timedelta(seconds=rules.seal_after_s):
        return False  # summed after the day could change: final
    return computed < now - timedelta(seconds=rules.freshness_s)


def _state(session: Session, now: datetime) -> ReportRollupState:
    # FOR UPDATE: concurrent reports take turns at invalidating and re-summing
    # (PostgreSQL); SQLite has one writer at a time anyway.
    state = session.scalar(
        select(ReportRollupState).where(ReportRollupState.id == 1).with_for_update()
    )
    if state is None:
        state = ReportRollupState(id=1, evidence_watermark=0, planned_watermark=0, updated_at=now)
        session.add(state)
        session.flush()
    return state


def invalidate_changed(session: Session, now: datetime, rules: RollupRules) -> None:
    """Forget summed days that evidence or plans stored since they were summed touch."""
    state = _state(session, now)
    e, p = PlaybackEvidence, PlannedPlay
    if session.scalar(select(ReportRollupDay.ward_code).limit(1)) is None:
        # Nothing summed yet, so nothing to invalidate: start watching from here.
        state.evidence_watermark = session.scalar(select(func.coalesce(func.max(e.id), 0))) or 0
        state.planned_watermark = session.scalar(select(func.coalesce(func.max(p.id), 0))) or 0
        state.updated_at = now
        return
    sqlite = is_sqlite(session)
    grace = timedelta(seconds=rules.commit_grace_s)
    touched: dict[tuple[str, date], datetime] = {}

    def note(ward: str | None, day: date | None, seen: datetime | None) -> None:
        if ward is None or day is None or seen is None:
            return
        # A UTC date touches the local dates either side of it in any zone.
        for shift in (-1, 0, 1):
            key = (ward, day + timedelta(days=shift))
            touched[key] = max(touched.get(key, seen), seen)

    # Evidence: attribute it to the ward it was planned for and the ward it arrived in.
    ev_day = utc_date(sqlite, e.planned_start)
    rows = session.execute(
        select(p.ward_code, e.ward_code, ev_day, func.max(e.received_at))
        .select_from(
            e.__table__.outerjoin(p, and_(p.device_id == e.device_id, p.item_id == e.item_id))
        )
        .where(e.id > state.evidence_watermark)
        # The day first: grouped by ward first, SQLite would walk a whole ward index
        # to save a sort instead of reading only the new rows by id.
        .group_by(ev_day, p.ward_code, e.ward_code)
    )
    for planned_ward, arrived_ward, day, seen in rows:
        note(planned_ward, day, seen)
        note(arrived_ward, day, seen)
    state.evidence_watermark = _advance(
        session, e.id, e.received_at, state.evidence_watermark, now - grace
    )
    pl_day = utc_date(sqlite, p.planned_start)
    plans = session.execute(
        select(p.ward_code, pl_day, func.max(p.first_planned_at))
        .where(p.id > state.planned_watermark)
        .group_by(pl_day, p.ward_code)
    )
    for ward, day, seen in plans:
        note(ward, day, seen)
    state.planned_watermark = _advance(
        session, p.id, p.first_planned_at, state.planned_watermark, now - grace
    )
    state.updated_at = now
    _forget(session, touched, grace)


def _advance(
    session: Session,
    id_column: Any,
    time_column: Any,
    watermark: int,
    settled_before: datetime,
) -> int:
    """The new watermark: below the first row that may still have company committing.

    PostgreSQL hands out ids before commit, so a row with a smaller id can appear
    after a larger one was seen; rows younger than the grace are looked at again.
    """
    young = func.min(case((time_column > literal(settled_before, UtcDateTime()), id_column)))
    highest, first_young = session.execute(
        select(func.max(id_column), young).where(id_column > watermark)
    ).one()
    if highest is None:
        return watermark
    return int(first_young) - 1 if first_young is not None else int(highest)


def _forget(session: Session, touched: dict[tuple[str, date], datetime], grace: timedelta) -> None:
    """Mark dirty the days summed before a row that touches them surely committed."""
    if not touched:
        return
    stale: list[tuple[str, date]] = []
    wards = sorted({ward for ward, _ in touched})
    first = min(day for _, day in touched)
    last = max(day for _, day in touched)
    for codes in in_chunks(wards):
        markers = session.scalars(
            select(ReportRollupDay).where(
                ReportRollupDay.ward_code.in_(codes),
                ReportRollupDay.local_date >= first,
                ReportRollupDay.local_date <= last,
            )
        )
        for marker in markers:
            seen = touched.get((marker.ward_code, marker.local_date))
            if seen is not None and marker.computed_at < seen + grace:
                stale.append((marker.ward_code, marker.local_date))
    # Marked, not forgotten: a job finds dirty days and re-sums them before any report.
    mark_days(session, stale)
