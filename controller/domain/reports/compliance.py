"""Judging a ward's targets (chỉ tiêu) on a period's daily figures: pass or fail, with why.

Pure functions over plain data, so the rules can be read and tested without a
database. Only days that have ended are judged (a day still under way could yet
meet its target), and only the ward's broadcast days that are not holidays of every
session: a ward that broadcasts Monday to Friday does not fail on a Sunday. Days
before the ward's programme applied are not judged either: a verdict whose every day
came before it is *not applicable* (chưa áp dụng), never a failure.

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
from controller.domain.reports import texts
from controller.domain.reports.labels import Lang
from controller.domain.reports.model import TargetOut, TargetStatus

MAX_LISTED = 31  # failing days or weeks listed; the counts say how many in all


@dataclass(frozen=True)
class DayFigures:
    """What one local day of a scope achieved."""

    sessions_played: int = 0
    relay_minutes: Mapping[str, float] = field(default_factory=dict)
    sessions_planned: int | None = None  # None: not known


@dataclass(frozen=True)
class Calendar:
    """Which days count: the ward's broadcast weekdays, its holidays, the days judged."""

    broadcast_days: frozenset[str]
    holidays: frozenset[date]
    judged: tuple[date, ...]  # days of the period in force that have ended, in order
    in_force_from: date | None = None  # the first day the programme applied all day
    not_applicable: int = 0  # days of the period before ``in_force_from``
    awaiting: int = 0  # days of the period in force that have not ended yet

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
    lang: Lang = "vi",
) -> list[TargetOut]:
    """Each target's verdict and the figures behind it (in words of ``lang``)."""
    results: list[TargetOut] = []
    for target in targets:
        if target.kind == "days_per_week":
            results.append(_days_per_week(ward_code, target, calendar, days, lang))
        else:
            results.append(_daily(ward_code, target, calendar, days, lang))
    return results


def _status(calendar: Calendar, judged: int, short: int) -> TargetStatus:
    """passed or failed on what was judged; else why nothing was."""
    if judged:
        return "failed" if short else "passed"
    if calendar.not_applicable and not calendar.awaiting:
        return "not_applicable"
    return "unjudged"


def _unjudged_figure(calendar: Calendar, status: TargetStatus, lang: Lang) -> str:
    if status == "not_applicable":
        return texts.not_applicable_figure(calendar.in_force_from, lang)
    return texts.nothing_ended(lang)


def _before(calendar: Calendar, lang: Lang) -> str:
    """What a figure adds about the days before the programme applied."""
    if calendar.not_applicable and calendar.in_force_from is not None:
        return texts.before_in_force(calendar.in_force_from, calendar.not_applicable, lang)
    return ""


def _value(target: TargetDef, figures: DayFigures) -> float:
    if target.kind == "sessions_per_day":
        return float(figures.sessions_played)
    if target.source_level is not None:
        return float(figures.relay_minutes.get(target.source_level, 0.0))
    return float(sum(figures.relay_minutes.values()))


def _daily(
    ward_code: str,
    target: TargetDef,
    calendar: Calendar,
    days: Mapping[date, DayFigures],
    lang: Lang,
) -> TargetOut:
    eligible = calendar.eligible()
    values = {d: _value(target, days.get(d, DayFigures())) for d in eligible}
    short = [d for d in eligible if values[d] < target.minimum]
    status = _status(calendar, len(eligible), len(short))
    if eligible:
        lowest = min(values.values())
        mean = sum(values.values()) / len(values)
        met = len(eligible) - len(short)
        # A day with nothing planned fails while the summary counts no session owed:
        # the figure says so, so the two read as one account.
        unplanned = sum(1 for d in eligible if days.get(d, DayFigures()).sessions_planned == 0)
        figure = texts.daily_figure(
            target.kind, met, len(eligible), target.minimum, lowest, mean, lang
        )
        figure += texts.nothing_planned(unplanned, lang) if unplanned else ""
        figure += _before(calendar, lang)
    else:
        figure = _unjudged_figure(calendar, status, lang)
    return TargetOut(
        ward_code=ward_code,
        code=target.code,
        description=target.description,
        kind=target.kind,
        minimum=target.minimum,
        source_level=target.source_level,
        passed=(not short) if eligible else None,
        status=status,
        judged=len(eligible),
        met=len(eligible) - len(short),
        unit="days",
        in_force_from=calendar.in_force_from,
        not_applicable=calendar.not_applicable,
        figure=figure,
        failing=[texts.short_day_entry(d, values[d], lang) for d in short[:MAX_LISTED]],
    )


def _days_per_week(
    ward_code: str,
    target: TargetDef,
    calendar: Calendar,
    days: Mapping[date, DayFigures],
    lang: Lang,
) -> TargetOut:
    judged = set(calendar.judged)
    weeks: dict[date, list[date]] = {}
    for day in calendar.judged:
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(day)
    judged_weeks = 0
    short: list[str] = []
    for monday, in_week in sorted(weeks.items()):
        week_days = [monday + timedelta(days=i) for i in range(7)]
        # Days the week could not count: outside the period, before the programme applied
        # or not over; and holidays.
        lost = sum(1 for d in week_days if d not in judged or d in calendar.holidays)
        required = max(0, math.ceil(target.minimum) - lost)
        achieved = sum(1 for d in in_week if days.get(d, DayFigures()).sessions_played >= 1)
        judged_weeks += 1
        if achieved < required:
            iso = monday.isocalendar()
            short.append(texts.short_week_entry(iso.year, iso.week, achieved, required, lang))
    status = _status(calendar, judged_weeks, len(short))
    if judged_weeks:
        met = judged_weeks - len(short)
        figure = texts.weekly_figure(met, judged_weeks, target.minimum, lang)
        figure += _before(calendar, lang)
    else:
        figure = _unjudged_figure(calendar, status, lang)
    return TargetOut(
        ward_code=ward_code,
        code=target.code,
        description=target.description,
        kind=target.kind,
        minimum=target.minimum,
        source_level=target.source_level,
        passed=(not short) if judged_weeks else None,
        status=status,
        judged=judged_weeks,
        met=judged_weeks - len(short),
        unit="weeks",
        in_force_from=calendar.in_force_from,
        not_applicable=calendar.not_applicable,
        figure=figure,
        failing=short[:MAX_LISTED],
    )
