"""The ward's own targets (chỉ tiêu) judged against the figures: the compliance wiring.

Each ward's programme states its targets; :mod:`.compliance` judges them, day by day,
on the days of the period that are over in the ward's zone. A ward without a programme
has no targets, which a single-ward report says in a note rather than in silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Programme
from controller.domain.programmes.schema import ProgrammeDoc
from controller.domain.reports.compliance import DayFigures, calendar_of, judge
from controller.domain.reports.figures import Figures
from controller.domain.reports.model import TargetOut
from controller.domain.reports.periods import day_start_utc


@dataclass
class Verdicts:
    """Every verdict, the same per ward, and the notes judging them left."""

    results: list[TargetOut] = field(default_factory=list)
    by_ward: dict[str, list[TargetOut]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def judge_targets(f: Figures) -> Verdicts:
    """Judge each ward's targets on the period's days that are over by ``f.now``."""
    played: dict[tuple[str, date], int] = {
        (r.ward_code, r.local_date): int(r.played) for r in f.session_rows
    }
    programmes = _programmes(f.session, [w.code for w in f.scope.wards])
    found = Verdicts()
    for ward in f.scope.wards:
        doc = programmes.get(ward.code)
        if doc is None:
            if f.scope.single_ward:
                found.notes.append(
                    f"Phường/xã {ward.code} chưa có chương trình nên chưa có chỉ tiêu / "
                    f"ward {ward.code} has no programme, so no targets to judge"
                )
            continue
        judged = [
            d
            for d in f.period.dates()
            if day_start_utc(d + timedelta(days=1), ward.timezone) <= f.now
        ]
        figures = {
            d: DayFigures(
                sessions_played=played.get((ward.code, d), 0),
                relay_minutes=f.relay.get((ward.code, d), {}),
            )
            for d in judged
        }
        verdicts = judge(ward.code, doc.targets, calendar_of(doc, judged), figures)
        found.by_ward[ward.code] = verdicts
        found.results.extend(verdicts)
    return found


def _programmes(session: Session, ward_codes: Sequence[str]) -> dict[str, ProgrammeDoc]:
    docs: dict[str, ProgrammeDoc] = {}
    for i in range(0, len(ward_codes), 400):
        rows = session.scalars(
            select(Programme).where(Programme.ward_code.in_(ward_codes[i : i + 400]))
        )
        docs.update({row.ward_code: ProgrammeDoc.model_validate(row.document) for row in rows})
    return docs
