"""Judging a ward's targets (chỉ tiêu) on a period's daily figures: pass or fail, with why.

Pure functions over plain data, so the rules can be read and tested without a
database. Only days that have ended are judged (a day still under way could yet
meet its target), and only the ward's broadcast days that are not holidays of every
session: a ward that broadcasts Monday to Friday does not fail on a Sunday.

* ``sessions_per_day``: every judged day has at least ``minimum`` sessions played.
* ``relay_daily``: every judged day has at least ``minimum`` minutes of relay (of
  ``source_level``, or of any level when none is set).
* ``days_per_week``: every ISO week has at least ``minimum`` days with a session
  played. A week cut by the period's edges, by days not yet over, or by holidays
  needs only what it could still have reached: the minimum less the days it lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from controller.domain.programmes.schema import ALL_WEEKDAYS, ProgrammeDoc, TargetDef
from controller.domain.reports.model import TargetOut

MAX_LISTED = 31  # failing days or weeks listed; the counts say how many in all


@dataclass(frozen=True)
class DayFigures:
    """What one local day of a scope achieved."""

    sessions_played: int = 0
    relay_minutes: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Calendar:
    """Which days count: the ward's broadcast weekdays, its holidays, the days judged."""

    broadcast_days: frozenset[str]
    holidays: frozenset[date]
    judged: tuple[date, ...]  # days of the period that have ended, in order

    def eligible(self) -> list[date]:
        """Judged days the ward broadcasts on."""
        return [d for d in self.judged if self.broadcasts_on(d)]

    def broadcasts_on(self, day: date) -> bool:
        """Whether the ward's rules put sessions on ``day``."""
        return ALL_WEEKDAYS[day.weekday()] in self.broadcast_days and day not in self.holidays


def calendar_of(doc: ProgrammeDoc, judged: Iterable[date]) -> Calendar:
    """The calendar a programme implies: its broadcast days, and dates every session skips."""
    skipped: set[date] | None = None
    for session in doc.sessions:
        dates = set(session.exdates)
        skipped = dates if skipped is None else skipped & dates
    return Calendar(
        broadcast_days=frozenset(doc.rules.broadcast_days),
        holidays=frozenset(skipped or ()),
        judged=tuple(sorted(judged)),
    )


def judge(
    ward_code: str,
    targets: Sequence[TargetDef],
    calendar: Calendar,
    days: Mapping[date, DayFigures],
) -> list[TargetOut]:
    """Each target's verdict and the figures behind it."""
    results: list[TargetOut] = []
    for target in targets:
        if target.kind == "days_per_week":
            results.append(_days_per_week(ward_code, target, calendar, days))
        else:
            results.append(_daily(ward_code, target, calendar, days))
    return results


def _value(target: TargetDef, figures: DayFigures) -> float:
    if target.kind == "sessions_per_day":
        return float(figures.sessions_played)
    if target.source_level is not None:
        return float(figures.relay_minutes.get(target.source_level, 0.0))
    return float(sum(figures.relay_minutes.values()))


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _daily(
    ward_code: str, target: TargetDef, calendar: Calendar, days: Mapping[date, DayFigures]
) -> TargetOut:
    eligible = calendar.eligible()
    values = {d: _value(target, days.get(d, DayFigures())) for d in eligible}
    short = [d for d in eligible if values[d] < target.minimum]
    unit_name = "sessions" if target.kind == "sessions_per_day" else "relay minutes"
    if eligible:
        lowest = min(values.values())
        mean = sum(values.values()) / len(values)
        figure = (
            f"{len(eligible) - len(short)} of {len(eligible)} broadcast days had at least "
            f"{_number(target.minimum)} {unit_name} (lowest {_number(lowest)}, "
            f"mean {_number(round(mean, 1))})"
        )
    else:
        figure = "no broadcast day of the period has ended yet"
    return TargetOut(
        ward_code=ward_code,
        code=target.code,
        description=target.description,
        kind=target.kind,
        minimum=target.minimum,
        source_level=target.source_level,
        passed=(not short) if eligible else None,
        judged=len(eligible),
        met=len(eligible) - len(short),
        unit="days",
        figure=figure,
        failing=[f"{d.isoformat()}: {_number(values[d])}" for d in short[:MAX_LISTED]],
    )


def _days_per_week(
    ward_code: str, target: TargetDef, calendar: Calendar, days: Mapping[date, DayFigures]
) -> TargetOut:
    judged = set(calendar.judged)
    weeks: dict[date, list[date]] = {}
    for day in calendar.judged:
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(day)
    judged_weeks = 0
    short: list[str] = []
    for monday, in_week in sorted(weeks.items()):
        week_days = [monday + timedelta(days=i) for i in range(7)]
        # Days the week could not count: outside the period or not over, and holidays.
        lost = sum(1 for d in week_days if d not in judged or d in calendar.holidays)
        required = max(0, math.ceil(target.minimum) - lost)
        achieved = sum(1 for d in in_week if days.get(d, DayFigures()).sessions_played >= 1)
        judged_weeks += 1
        if achieved < required:
            iso = monday.isocalendar()
            short.append(f"{iso.year}-W{iso.week:02d}: {achieved} of {required} days")
    if judged_weeks:
        figure = (
            f"{judged_weeks - len(short)} of {judged_weeks} weeks had sessions on at least "
            f"{_number(target.minimum)} days (weeks cut by the period need only the days "
            "they could still reach)"
        )
    else:
        figure = "no day of the period has ended yet"
    return TargetOut(
        ward_code=ward_code,
        code=target.code,
        description=target.description,
        kind=target.kind,
        minimum=target.minimum,
        source_level=target.source_level,
        passed=(not short) if judged_weeks else None,
        judged=judged_weeks,
        met=judged_weeks - len(short),
        unit="weeks",
        figure=figure,
        failing=short[:MAX_LISTED],
    )
