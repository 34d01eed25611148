"""A scope's figures for a period, read from the rollups, and the report's headline parts.

The sums are done by the database (a handful of GROUP BY queries, in :mod:`.queries`);
Python only arranges their few hundred rows, so a province-year costs little more
than a ward-month. :class:`Figures` reads them once; the functions here turn them
into the plays, sessions, sources, days and notes of the report, :mod:`.breakdowns`
into its per-category, per-bulletin, per-device and per-ward lines, and
:mod:`.targets` into the verdicts on the ward's targets.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from functools import partial

from sqlalchemy.orm import Session

from controller.domain.reports import queries, texts
from controller.domain.reports.labels import Lang
from controller.domain.reports.model import (
    DayOut,
    OutcomesOut,
    PlaysOut,
    SessionsOut,
    SourceOut,
    rate,
)
from controller.domain.reports.periods import Period
from controller.domain.reports.queries import PLAY_MEASURES, Scope
from controller.domain.reports.rollups import OUTCOMES, RollupRules

SOURCE_ORDER = ("central", "provincial", "district", "commune")
MEASURE = {name: i for i, name in enumerate(PLAY_MEASURES)}
_DAY_MEASURES = ("planned", "played", "missed")
WARD_MEASURES = ("planned", "played", "missed", "pending", "confirmed", "on_time", "timed")


class Figures:
    """The rollup sums of one scope and period, as of ``now``, under ``rules``."""

    def __init__(
        self, session: Session, scope: Scope, period: Period, now: datetime, rules: RollupRules
    ) -> None:
        self.session = session
        self.scope = scope
        self.period = period
        self.now = now
        self.rules = rules
        first, last = period.first, period.last
        grouped = partial(queries.plays_grouped, session, scope, first, last)
        self.by_source = grouped(("source_level", "kind"))
        self.by_date = {row[0]: row[1:] for row in grouped(("local_date",), _DAY_MEASURES)}
        self.by_ward = (
            {row[0]: row[1:] for row in grouped(("ward_code",), WARD_MEASURES)}
            if not scope.single_ward
            else {}
        )
        # (ward, date) -> source level -> minutes relayed by that ward's longest relayer.
        self.relay: dict[tuple[str, date], dict[str, float]] = defaultdict(dict)
        for ward, day, level, longest in grouped(
            ("ward_code", "local_date", "source_level"), (), longest_relay=True
        ):
            self.relay[(ward, day)][level] = round(float(longest or 0) / 60, 1)
        self.session_rows = queries.sessions_by_day(session, scope, first, last)
        self.bulletin_rows = (
            queries.bulletins(session, scope, first, last) if scope.single_ward else []
        )
        totals = [0.0] * len(PLAY_MEASURES)
        for row in self.by_source:
            for i, value in enumerate(row[2:]):
                totals[i] += float(value or 0)
        self.totals = {name: totals[i] for name, i in MEASURE.items()}


def plays(f: Figures) -> PlaysOut:
    """Planned plays and what became of them, over the whole scope and period."""
    s = {name: int(value) for name, value in f.totals.items() if not name.endswith("_s")}
    due = s["planned"] - s["pending"]
    return PlaysOut(
        planned=s["planned"],
        withdrawn=s["withdrawn"],
        confirmed=s["confirmed"],
        played=s["played"],
        missed=s["missed"],
        pending=s["pending"],
        on_time=s["on_time"],
        timed=s["timed"],
        unplanned=s["unplanned"],
        unplanned_played=s["unplanned_played"],
        confirmed_rate=rate(s["confirmed"], due),
        played_rate=rate(s["played"], due),
        on_time_rate=rate(s["on_time"], s["timed"]),
    )


def outcomes(f: Figures) -> OutcomesOut:
    """How the confirmed plays ended (completed, partial, preempted, failed, skipped)."""
    return OutcomesOut(**{n: int(f.totals[n]) for n in OUTCOMES})


def sessions(f: Figures) -> SessionsOut:
    """Sessions (buổi phát) planned and played, by the ward and by its devices."""
    rows = f.session_rows
    planned = sum(int(r.planned) for r in rows)
    played = sum(int(r.played) for r in rows)
    return SessionsOut(
        planned=planned,
        played=played,
        played_rate=rate(played, planned),
        device_sessions_planned=sum(int(r.device_planned) for r in rows),
        device_sessions_played=sum(int(r.device_played or 0) for r in rows),
    )


def sources(f: Figures) -> list[SourceOut]:
    """Hours relayed and played per source level, central first."""
    # (level, kind) -> measures
    sums = {(row[0], row[1]): row[2:] for row in f.by_source}
    levels = {level for level, _ in sums}
    order = [*SOURCE_ORDER, *sorted(levels - set(SOURCE_ORDER))]

    def value(level: str, kind: str, name: str) -> float:
        found = sums.get((level, kind))
        return float(found[MEASURE[name]] or 0) if found else 0.0

    def count(level: str, name: str) -> int:
        return int(value(level, "media", name) + value(level, "relay", name))

    return [
        SourceOut(
            source_level=level,
            planned_relay_h=round(value(level, "relay", "planned_s") / 3600, 2),
            relayed_h=round(value(level, "relay", "relayed_s") / 3600, 2),
            planned_content_h=round(value(level, "media", "planned_s") / 3600, 2),
            played_content_h=round(value(level, "media", "played_s") / 3600, 2),
            plays_planned=count(level, "planned"),
            plays_played=count(level, "played"),
        )
        for level in order
    ]


def days(f: Figures, in_force: dict[str, date] | None = None) -> list[DayOut]:
    """One line per day of the period, relay minutes averaged over the scope's wards.

    ``in_force`` gives each ward's first day under its programme: a day is in force
    when any ward's programme applied (none given: every day is).
    """
    starts = list((in_force or {}).values())
    by_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for srow in f.session_rows:
        by_day[srow.local_date][0] += int(srow.planned)
        by_day[srow.local_date][1] += int(srow.played)
    relay: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (_, day), levels in f.relay.items():
        for level, value in levels.items():
            relay[day][level] += value
    wards = max(1, len(f.scope.wards))
    zero = (0, 0, 0)
    return [
        DayOut(
            date=day,
            sessions_planned=by_day[day][0],
            sessions_played=by_day[day][1],
            plays_planned=int(f.by_date.get(day, zero)[0] or 0),
            plays_played=int(f.by_date.get(day, zero)[1] or 0),
            plays_missed=int(f.by_date.get(day, zero)[2] or 0),
            relay_minutes={k: round(v / wards, 1) for k, v in sorted(relay[day].items())},
            in_force=in_force is None or any(start <= day for start in starts),
        )
        for day in f.period.dates()
    ]


def notes(f: Figures, counts: PlaysOut, earlier: list[str], lang: Lang = "vi") -> list[str]:
    """What a reader must know to read the figures: ``earlier`` notes, then missed and such."""
    found = list(earlier)
    if counts.missed:
        found.append(texts.missed_note(counts.missed, f.rules.deadline_s, lang))
    if counts.pending:
        found.append(texts.pending_note(counts.pending, lang))
    if counts.unplanned:
        found.append(texts.unplanned_note(counts.unplanned, lang))
    return found
