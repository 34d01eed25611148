"""Re-summing a run of days: old sums out, facts in, device sums, ward sums, markers.

The whole run is one transaction's work, so a report never reads a day half summed.
A day's marker (``report_rollup_days``) records when and under which rules it was
summed; :mod:`.staleness` reads it to decide when the day must be summed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import delete, insert, select, text, union
from sqlalchemy.orm import Session

from controller.db.models import Device, PlannedPlay
from controller.db.models.rollups import ReportRollupDay
from controller.domain.reports.periods import day_start_utc, offset_segments
from controller.domain.reports.rollups.facts import FACTS, facts_select
from controller.domain.reports.rollups.judging import EVIDENCE_WINDOW, RollupRules
from controller.domain.reports.rollups.months import sum_months
from controller.domain.reports.rollups.sums import DEVICE_LEVEL, WARD_LEVEL, sum_devices, sum_wards
from controller.domain.reports.sqlfn import is_sqlite

PG_WORK_MEM = "128MB"


def rebuild(
    session: Session,
    wards: Sequence[str],
    zone: str,
    first: date,
    last: date,
    now: datetime,
    rules: RollupRules,
) -> None:
    """Re-sum local dates ``first``..``last`` of ``wards`` (all in ``zone``) from the raw tables."""
    sqlite = is_sqlite(session)
    if not sqlite:
        # PostgreSQL's default 4 MB per hash spills a province-month's joins to disk:
        # 105 s instead of 16 s at 10M rows. LOCAL: for this transaction only.
        session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
    start = day_start_utc(first, zone)
    end = day_start_utc(last + timedelta(days=1), zone)
    for table in (*DEVICE_LEVEL, *WARD_LEVEL, ReportRollupDay):
        session.execute(
            delete(table).where(
                table.ward_code.in_(wards), table.local_date >= first, table.local_date <= last
            )
        )
    devices = _devices_of(session, wards, start, end)
    for seg_start, seg_end, offset_s in offset_segments(zone, start, end):
        facts = facts_select(sqlite, wards, devices, seg_start, seg_end, offset_s, now, rules)
        # The join of plans and evidence is the costly part: done once, into a
        # temporary table that the three sums read.
        connection = session.connection()
        FACTS.drop(connection, checkfirst=True)
        FACTS.create(connection)
        session.execute(insert(FACTS).from_select([c.name for c in FACTS.columns], facts))
        sum_devices(session, FACTS)
        FACTS.drop(connection)
    sum_wards(session, wards, first, last)
    sum_months(session, wards, first, last)  # after the device days they sum
    _mark_summed(session, wards, zone, first, last, now, rules)


def _devices_of(
    session: Session, wards: Sequence[str], start: datetime, end: datetime
) -> list[str]:
    """Devices whose evidence can belong to these wards in [start, end): planned or placed."""
    planned = select(PlannedPlay.device_id).where(
        PlannedPlay.ward_code.in_(wards),
        PlannedPlay.planned_start >= start - EVIDENCE_WINDOW,
        PlannedPlay.planned_start < end + EVIDENCE_WINDOW,
    )
    placed = select(Device.id).where(Device.ward_code.in_(wards))
    return sorted(session.scalars(union(planned, placed)))


def _mark_summed(
    session: Session,
    wards: Sequence[str],
    zone: str,
    first: date,
    last: date,
    now: datetime,
    rules: RollupRules,
) -> None:
    """Record each ward-day as summed now, in ``zone``, under ``rules``."""
    markers = [
        {
            "ward_code": ward,
            "local_date": first + timedelta(days=i),
            "computed_at": now,
            "timezone": zone,
            "tolerance_s": rules.tolerance_s,
            "deadline_s": rules.deadline_s,
        }
        for ward in wards
        for i in range((last - first).days + 1)
    ]
    if markers:
        session.execute(insert(ReportRollupDay), markers)
