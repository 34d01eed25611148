"""Building a report: resolve the scope, bring the rollups up to date, sum, judge targets.

Domain functions: they take a Session and raise :class:`NotFound` (404) for a ward,
group, device, district or province that does not exist and :class:`InvalidInput`
(422) for a period or a combination of names that makes no sense. The scope is read
by :mod:`.scope`, the figures by :mod:`.figures` and :mod:`.breakdowns`, the targets
judged by :mod:`.targets`; this module puts the parts together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from controller.db.models import PlannedPlay, Ward
from controller.db.models.rollups import ReportPlaysRollup
from controller.domain.errors import InvalidInput
from controller.domain.reports import breakdowns, figures, queries, texts
from controller.domain.reports.figures import Figures
from controller.domain.reports.labels import Lang, place_title
from controller.domain.reports.model import (
    MissedList,
    MissedPlay,
    PeriodOut,
    Report,
    RulesOut,
    ScopeOut,
)
from controller.domain.reports.periods import Period, day_start_utc, parse_period
from controller.domain.reports.queries import Scope
from controller.domain.reports.rollups import RollupRules, ensure_rollups, missed_select
from controller.domain.reports.scope import ReportRequest, resolve_scope
from controller.domain.reports.sqlfn import is_sqlite
from controller.domain.reports.targets import judge_targets

__all__ = ["MISSED_LIMIT", "ReportRequest", "build_report", "missed_plays", "resolve_scope"]

MISSED_LIMIT = 5000


def build_report(
    session: Session, request: ReportRequest, now: datetime, rules: RollupRules
) -> Report:
    """The report for the request's scope and period, as of ``now``, in its language."""
    period = parse_period(request.period)
    scope = resolve_scope(session, request)
    ensure_rollups(session, scope.wards, period.first, period.last, now, rules)
    return _assemble(Figures(session, scope, period, now, rules), request.lang)


def _assemble(f: Figures, lang: Lang) -> Report:
    """Every part, assembled."""
    scope, period = f.scope, f.period
    zones = {w.timezone for w in scope.wards}
    zone = zones.pop() if len(zones) == 1 else None
    plays = figures.plays(f)
    verdicts = judge_targets(f, lang)
    period_out = _period_out(period, zone)
    return Report(
        title=texts.title(place_title(scope.kind, scope.name, lang), period_out, lang),
        lang=lang,
        scope=_scope_out(scope),
        period=period_out,
        as_of=f.now,
        rules=RulesOut(
            on_time_tolerance_s=f.rules.tolerance_s,
            missed_deadline_s=f.rules.deadline_s,
            **texts.method(f.rules.tolerance_s, f.rules.deadline_s, lang),
        ),
        plays=plays,
        sessions=figures.sessions(f),
        outcomes=figures.outcomes(f),
        sources=figures.sources(f),
        categories=breakdowns.categories(f),
        coverage=breakdowns.coverage(f),
        devices=breakdowns.devices(f),
        days=figures.days(f, verdicts.in_force),
        compliance=verdicts.results,
        wards=breakdowns.wards(f, verdicts.by_ward) if not scope.single_ward else [],
        notes=figures.notes(f, plays, verdicts.notes, lang),
    )


def _scope_out(scope: Scope) -> ScopeOut:
    return ScopeOut(
        kind=scope.kind,
        code=scope.code,
        name=scope.name,
        ward_code=scope.wards[0].code if len(scope.wards) == 1 else None,
        ward_name=scope.wards[0].name if len(scope.wards) == 1 else None,
        group_code=scope.group_code,
        device_id=scope.device.id if scope.device else None,
        wards=len(scope.wards),
    )


def _period_out(period: Period, zone: str | None) -> PeriodOut:
    """The period as reported: in ``zone``, or "per ward" (no UTC bounds) when zones differ."""
    start, end = period.utc_bounds(zone) if zone else (None, None)
    return PeriodOut(
        label=period.label,
        kind=period.kind,
        first=period.first,
        last=period.last,
        days=period.days,
        timezone=zone or "per ward",
        start_utc=start,
        end_utc=end,
    )


def missed_plays(
    session: Session,
    request: ReportRequest,
    now: datetime,
    rules: RollupRules,
    limit: int = MISSED_LIMIT,
) -> MissedList:
    """Every missed play of a ward (or one of its groups or devices) in the period."""
    if not request.ward and not request.device:
        raise InvalidInput("missed plays are listed for a ward (and group) or a device")
    period = parse_period(request.period)
    scope = resolve_scope(session, request)
    ward = scope.wards[0]
    ensure_rollups(session, scope.wards, period.first, period.last, now, rules)
    # The rollups say which devices missed anything on which days, so the raw
    # tables are only searched there.
    t = ReportPlaysRollup
    query = (
        select(t.device_id, func.min(t.local_date), func.max(t.local_date), func.sum(t.missed))
        .where(*queries.where_scope(t, scope, [ward.code], period.first, period.last), t.missed > 0)
        .group_by(t.device_id)
    )
    found = session.execute(query).all()
    return MissedList(
        ward_code=ward.code,
        period=_period_out(period, ward.timezone),
        as_of=now,
        missed_deadline_s=rules.deadline_s,
        total=int(sum(int(row[3]) for row in found)),
        items=_missed_items(session, scope, ward, found, now, rules, limit) if found else [],
    )


def _missed_items(
    session: Session,
    scope: Scope,
    ward: Ward,
    found: Sequence[Row[str, date, date, int]],
    now: datetime,
    rules: RollupRules,
    limit: int,
) -> list[MissedPlay]:
    """The missed plays themselves, searched only on the devices and days ``found`` missed."""
    devices = sorted(row[0] for row in found)
    start = day_start_utc(min(row[1] for row in found), ward.timezone)
    end = day_start_utc(max(row[2] for row in found) + timedelta(days=1), ward.timezone)
    select_missed = missed_select(is_sqlite(session), ward.code, devices, start, end, now, rules)
    if scope.group_code is not None:
        select_missed = select_missed.where(PlannedPlay.group_code == scope.group_code)
    return [
        MissedPlay(
            device_id=play.device_id,
            ward_code=play.ward_code,
            group_code=play.group_code,
            item_id=play.item_id,
            broadcast_id=play.broadcast_id,
            bulletin_id=play.bulletin_id,
            session_key=play.session_key,
            kind=play.kind,
            category=play.category,
            source_level=play.source_level,
            priority=play.priority,
            trigger=play.trigger,
            planned_start=play.planned_start,
            planned_duration_s=play.planned_duration_s,
        )
        for play in session.scalars(select_missed.limit(limit))
    ]
