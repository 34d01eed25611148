"""The ward's own targets (chỉ tiêu) judged against the figures: the compliance wiring.

Each ward's programme states its targets; :mod:`.compliance` judges them, day by day,
on the days of the period that are over in the ward's zone and on which the programme
was in force. A ward without a programme has no targets, which a single-ward report
says in a note rather than in silence.

When did a programme begin? The database keeps no date for a ward or a target, and a
programme row keeps only its latest change (``updated_at``). The earliest trace of it
is used: that instant, or the first time the controller planned one of its sessions
(``first_planned_at`` of the ward's earliest programme play), whichever came first;
for one device, not before the device was registered. Its first *whole* local day is
the first day judged: a programme stored at 14:00 did not have the morning session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import PlannedPlay, Programme, Ward
from controller.domain.programmes.schema import ProgrammeDoc
from controller.domain.reports import texts
from controller.domain.reports.compliance import DayFigures, calendar_of, judge
from controller.domain.reports.figures import Figures
from controller.domain.reports.labels import Lang
from controller.domain.reports.model import TargetOut
from controller.domain.reports.periods import day_start_utc


@dataclass
class Verdicts:
    """Every verdict, the same per ward, when each ward's programme applied, and notes."""

    results: list[TargetOut] = field(default_factory=list)
    by_ward: dict[str, list[TargetOut]] = field(default_factory=dict)
    in_force: dict[str, date] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def judge_targets(f: Figures, lang: Lang = "vi") -> Verdicts:
    """Judge each ward's targets on the period's days in force that are over by ``f.now``."""
    played: dict[tuple[str, date], int] = {
        (r.ward_code, r.local_date): int(r.played) for r in f.session_rows
    }
    planned: dict[tuple[str, date], int] = {
        (r.ward_code, r.local_date): int(r.planned) for r in f.session_rows
    }
    programmes = _programmes(f.session, [w.code for w in f.scope.wards])
    first_planned = _first_planned(f.session, sorted(programmes))
    found = Verdicts()
    for ward in f.scope.wards:
        stored = programmes.get(ward.code)
        if stored is None:
            if f.scope.single_ward:
                found.notes.append(texts.no_programme(ward.code, lang))
            continue
        doc, updated_at = stored
        since = min(updated_at, first_planned.get(ward.code) or updated_at)
        if f.scope.device is not None:
            since = max(since, f.scope.device.registered_at)
        start = first_whole_day(since, ward.timezone)
        found.in_force[ward.code] = start
        period_days = list(f.period.dates())
        in_force = [d for d in period_days if d >= start]
        ended = [
            d for d in in_force if day_start_utc(d + timedelta(days=1), ward.timezone) <= f.now
        ]
        before = len(period_days) - len(in_force)
        if before and f.scope.single_ward:
            found.notes.append(texts.in_force_note(ward.code, start, before, lang))
        figures = {
            d: DayFigures(
                sessions_played=played.get((ward.code, d), 0),
                relay_minutes=f.relay.get((ward.code, d), {}),
                sessions_planned=planned.get((ward.code, d), 0),
            )
            for d in ended
        }
        calendar = replace(
            calendar_of(doc, ended),
            in_force_from=start,
            not_applicable=before,
            awaiting=len(in_force) - len(ended),
        )
        verdicts = judge(ward.code, doc.targets, calendar, figures, lang)
        found.by_ward[ward.code] = verdicts
        found.results.extend(verdicts)
    return found


def first_whole_day(instant: datetime, zone: str) -> date:
    """The first local day in ``zone`` that began at or after ``instant``."""
    local = instant.astimezone(ZoneInfo(zone))
    return local.date() if local.time() == time(0) else local.date() + timedelta(days=1)


def _first_planned(session: Session, ward_codes: Sequence[str]) -> dict[str, datetime | None]:
    """When the controller first planned each ward's programme (its earliest session play).

    One statement for all the wards, not one per ward: a province's hundred look-ups
    cost a hundred round trips, and on PostgreSQL each is planned again.
    """
    p = PlannedPlay
    # Walks the (ward_code, planned_start) index from its start: one row read, not all.
    earliest = (
        select(p.first_planned_at)
        .where(p.ward_code == Ward.code, p.trigger == "programme")
        .order_by(p.planned_start)
        .limit(1)
        .scalar_subquery()
    )
    found: dict[str, datetime | None] = {}
    for i in range(0, len(ward_codes), 400):
        query = select(Ward.code, earliest).where(Ward.code.in_(ward_codes[i : i + 400]))
        found.update({code: first for code, first in session.execute(query)})
    return found


def _programmes(
    session: Session, ward_codes: Sequence[str]
) -> dict[str, tuple[ProgrammeDoc, datetime]]:
    """Each ward's stored programme and the instant it was last stored."""
    docs: dict[str, tuple[ProgrammeDoc, datetime]] = {}
    for i in range(0, len(ward_codes), 400):
        rows = session.scalars(
            select(Programme).where(Programme.ward_code.in_(ward_codes[i : i + 400]))
        )
        docs.update(
            {
                row.ward_code: (ProgrammeDoc.model_validate(row.document), row.updated_at)
                for row in rows
            }
        )
    return docs
