"""Keeping the rollups current: from a periodic job, on demand for a report, over the past.

:func:`keep_current` is the periodic job: it re-sums the days marked dirty as evidence
and plans arrive (:mod:`.dirty`) and keeps today and yesterday fresh, so the first
report after a restart finds every day summed; :func:`ensure_rollups` is what the
reports call, re-summing only what is still stale in their range; :func:`backfill`
sums a controller's history (after an upgrade or an import), from a scheduled job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, not_, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from controller.db.models import PlannedPlay, Ward
from controller.db.models.rollups import ReportRollupDay
from controller.domain.reports.periods import day_start_utc
from controller.domain.reports.rollups.dirty import Mark, clear, marks
from controller.domain.reports.rollups.judging import RollupRules
from controller.domain.reports.rollups.rebuild import rebuild
from controller.domain.reports.rollups.staleness import in_chunks, invalidate_changed, is_stale


def ensure_rollups(
    session: Session,
    wards: Sequence[Ward],
    first: date,
    last: date,
    now: datetime,
    rules: RollupRules,
) -> int:
    """Make the rollups of ``wards`` for local dates ``first``..``last`` current; days re-summed.

    Cheap when a job keeps them current: the markers say every day is summed, no day
    in the range is marked dirty, and only the rows stored since the last look are
    checked for changes made around the domain.
    """
    invalidate_changed(session, now, rules)
    by_code = {w.code: w for w in wards}
    # A day summed after the whole range was sealed, under these rules, is final: such
    # markers (nearly all of a past year) are read bare, with no instant to parse.
    sealed = max(
        (day_start_utc(last + timedelta(days=1), w.timezone) for w in wards), default=now
    ) + timedelta(seconds=rules.seal_after_s)
    final: set[tuple[str, date]] = set()
    markers: dict[tuple[str, date], Row[Any]] = {}
    dirty: list[Mark] = []
    m = ReportRollupDay
    same_rules = and_(
        m.computed_at >= sealed,
        m.tolerance_s == rules.tolerance_s,
        m.deadline_s == rules.deadline_s,
    )
    for codes in in_chunks(sorted(by_code)):
        in_range = (m.ward_code.in_(codes), m.local_date >= first, m.local_date <= last)
        for code, day, zone in session.execute(
            select(m.ward_code, m.local_date, m.timezone).where(*in_range, same_rules)
        ):
            if zone == by_code[code].timezone:
                final.add((code, day))
        # The rest as plain rows, not ORM objects: a province-year has tens of thousands.
        query = select(
            m.ward_code, m.local_date, m.computed_at, m.timezone, m.tolerance_s, m.deadline_s
        ).where(*in_range, not_(same_rules))
        markers.update({(row.ward_code, row.local_date): row for row in session.execute(query)})
        dirty += marks(session, codes, first, last)
    marked = {(ward, day) for _, ward, day in dirty}
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    stale: dict[str, list[date]] = {}
    for code, ward in by_code.items():
        stale[code] = [
            d
            for d in days
            if (code, d) in marked
            or (
                (code, d) not in final
                and is_stale(markers.get((code, d)), ward.timezone, d, now, rules)
            )
        ]
    rebuilt = _resum(session, by_code, stale, now, rules)
    clear(session, dirty)
    return rebuilt


def resum_dirty(session: Session, now: datetime, rules: RollupRules) -> int:
    """Re-sum every ward-day marked dirty (for a periodic job); ward-days re-summed."""
    dirty = marks(session)
    if not dirty:
        return 0
    by_code = {
        w.code: w
        for codes in in_chunks(sorted({ward for _, ward, _ in dirty}))
        for w in session.scalars(select(Ward).where(Ward.code.in_(codes)))
    }
    stale: dict[str, list[date]] = defaultdict(list)
    for _, ward, day in dirty:
        stale[ward].append(day)
    rebuilt = _resum(session, by_code, stale, now, rules)
    clear(session, dirty)  # a ward since deleted has nothing to sum: its marks go too
    return rebuilt


def _resum(
    session: Session,
    wards: dict[str, Ward],
    stale: dict[str, list[date]],
    now: datetime,
    rules: RollupRules,
) -> int:
    """Re-sum each ward's stale days, wards of one zone and run of days together."""
    batches: dict[tuple[str, date, date], list[str]] = defaultdict(list)
    for code, days in stale.items():
        ward = wards.get(code)
        if ward is None:
            continue
        for run in _runs(days):
            batches[(ward.timezone, *run)].append(code)
    rebuilt = 0
    for (zone, run_first, run_last), codes in sorted(batches.items()):
        for chunk in in_chunks(sorted(codes)):
            rebuild(session, chunk, zone, run_first, run_last, now, rules)
            rebuilt += len(chunk) * ((run_last - run_first).days + 1)
    session.flush()
    return rebuilt


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive dates grouped into (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def refresh_recent(session: Session, now: datetime, rules: RollupRules, days: int = 2) -> int:
    """Bring every ward's last ``days`` local days up to date (for a periodic job)."""
    wards = list(session.scalars(select(Ward)))
    rebuilt = 0
    for zone in sorted({w.timezone for w in wards}):
        today = now.astimezone(ZoneInfo(zone)).date()
        in_zone = [w for w in wards if w.timezone == zone]
        rebuilt += ensure_rollups(session, in_zone, today - timedelta(days=days), today, now, rules)
    return rebuilt


def keep_current(session: Session, now: datetime, rules: RollupRules) -> int:
    """The periodic job: recent days up to date, then every other dirty day; days re-summed.

    Run every minute or so, it is why a report finds its days summed: evidence that
    arrives marks its day dirty, and the day is re-summed here before anyone asks.
    """
    return refresh_recent(session, now, rules) + resum_dirty(session, now, rules)


def backfill(
    session: Session, now: datetime, rules: RollupRules, chunk_days: int = 31
) -> Iterable[int]:
    """Sum every day that has planned plays, a month at a time; yields ward-days re-summed.

    For a controller that already holds history (an upgrade, an import): run it once
    from a job, committing between yields, so the first reports find the past summed
    instead of summing it while an evaluator waits.
    """
    first, last = session.execute(
        select(func.min(PlannedPlay.planned_start), func.max(PlannedPlay.planned_start))
    ).one()
    if first is None or last is None:
        return
    wards = list(session.scalars(select(Ward)))
    for zone in sorted({w.timezone for w in wards}):
        in_zone = [w for w in wards if w.timezone == zone]
        day = first.astimezone(ZoneInfo(zone)).date()
        end = last.astimezone(ZoneInfo(zone)).date()
        while day <= end:
            until = min(end, day + timedelta(days=chunk_days - 1))
            yield ensure_rollups(session, in_zone, day, until, now, rules)
            day = until + timedelta(days=1)
