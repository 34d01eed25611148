"""The sections of the report's CSV, one function each: a title, a header, the rows.

Header names that are label keys are printed "Vietnamese (English)" by the writer in
:mod:`.exports`; the rest (the relay-minute columns, built per source level) are
printed as they are. A section's rows are in the order the report holds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controller.domain.reports.cells import Cell, local_time, percent, report_zone, verdict
from controller.domain.reports.labels import SCOPE_NAMES, both, en, vi
from controller.domain.reports.model import Report

Row = Sequence[Cell]


@dataclass(frozen=True)
class Section:
    """One table of the CSV: its title's label key, its header, its rows."""

    title: str
    header: Sequence[str]
    rows: Sequence[Row]


def heading(report: Report) -> list[Row]:
    """The lines above the first section: what, where, when, and by which rules."""
    scope, period, rules = report.scope, report.period, report.rules
    return [
        [report.title],
        [both("scope"), f"{SCOPE_NAMES[scope.kind][0]} {scope.name}"],
        [both("code"), scope.code],
        [both("period"), period.label, str(period.first), str(period.last)],
        [both("timezone"), period.timezone],
        [both("as_of"), local_time(report.as_of, report_zone(report))],
        [both("tolerance"), rules.on_time_tolerance_s],
        [both("deadline"), rules.missed_deadline_s],
    ]


def sections(report: Report) -> list[Section]:
    """Every section the report has: wards only over many wards, notes only when there are."""
    found = [
        summary(report),
        compliance(report),
        days(report),
        sources(report),
        categories(report),
        coverage(report),
        devices(report),
    ]
    if report.wards:
        found.append(wards(report))
    if report.notes:
        found.append(Section("notes", ["notes"], [(note,) for note in report.notes]))
    return found


def summary(report: Report) -> Section:
    """The headline figures, one per line."""
    p, s, o = report.plays, report.sessions, report.outcomes
    rows: list[Row] = [
        (both("sessions_planned"), s.planned),
        (both("sessions_played"), s.played),
        (both("sessions_rate") + " %", percent(s.played_rate)),
        (both("plays_planned"), p.planned),
        (both("plays_confirmed"), p.confirmed),
        (both("plays_played"), p.played),
        (both("plays_missed"), p.missed),
        (both("plays_pending"), p.pending),
        (both("plays_withdrawn"), p.withdrawn),
        (both("plays_unplanned"), p.unplanned),
        (both("availability") + " %", percent(p.confirmed_rate)),
        (both("on_time_rate") + " %", percent(p.on_time_rate)),
        (both("completed"), o.completed),
        (both("partial"), o.partial),
        (both("preempted"), o.preempted),
        (both("failed"), o.failed),
        (both("skipped"), o.skipped),
    ]
    return Section("summary", ["measure", "figure"], rows)


def compliance(report: Report) -> Section:
    """Each of the ward's targets and its verdict."""
    header = ["ward", "target", "kind", "minimum", "source_level", "verdict", "figure", "failing"]
    rows = [
        (
            t.ward_code,
            f"{t.code}: {t.description}",
            t.kind,
            t.minimum,
            vi(t.source_level) if t.source_level else "",
            verdict(t.passed),
            f"{t.met}/{t.judged} {t.unit}; {t.figure}",
            "; ".join(t.failing),
        )
        for t in report.compliance
    ]
    return Section("compliance", header, rows)


def days(report: Report) -> Section:
    """One line a day, with a relay-minutes column for each source level relayed."""
    levels = sorted({level for d in report.days for level in d.relay_minutes})
    header = [
        "date",
        "sessions_planned",
        "sessions_played",
        "plays_planned",
        "plays_played",
        "plays_missed",
    ] + [
        f"{vi('relay_minutes')} {vi(level)} ({en('relay_minutes')}, {en(level)})"
        for level in levels
    ]
    rows: list[Row] = [
        (
            d.date.isoformat(),
            d.sessions_planned,
            d.sessions_played,
            d.plays_planned,
            d.plays_played,
            d.plays_missed,
            *[d.relay_minutes.get(level, 0.0) for level in levels],
        )
        for d in report.days
    ]
    return Section("days", header, rows)


def sources(report: Report) -> Section:
    """Hours relayed and played per source level (central, provincial, …)."""
    header = [
        "source_level",
        "planned_relay_h",
        "relayed_h",
        "planned_content_h",
        "played_content_h",
        "plays_planned",
        "plays_played",
    ]
    rows = [
        (
            vi(x.source_level),
            x.planned_relay_h,
            x.relayed_h,
            x.planned_content_h,
            x.played_content_h,
            x.plays_planned,
            x.plays_played,
        )
        for x in report.sources
    ]
    return Section("sources", header, rows)


def categories(report: Report) -> Section:
    """Bulletins and their plays per category."""
    header = ["category", "bulletins", "plays_planned", "plays_played", "plays_missed"]
    rows = [
        (c.category, c.bulletins, c.plays_planned, c.plays_played, c.plays_missed)
        for c in report.categories
    ]
    return Section("categories", header, rows)


def coverage(report: Report) -> Section:
    """Per bulletin, the residential groups it was meant for and those that heard it."""
    header = [
        "ward",
        "bulletin",
        "name",
        "category",
        "targeted_groups",
        "covered_groups",
        "share",
        "uncovered",
    ]
    rows = [
        (
            c.ward_code,
            c.bulletin_id,
            c.title,
            c.category,
            c.targeted_groups,
            c.covered_groups,
            percent(c.share),
            " ".join(c.uncovered),
        )
        for c in report.coverage
    ]
    return Section("coverage", header, rows)


def devices(report: Report) -> Section:
    """One line a device: its plays, availability, sessions and when it was last heard."""
    zone = report_zone(report)
    header = [
        "device",
        "name",
        "ward",
        "group",
        "plays_planned",
        "plays_confirmed",
        "plays_played",
        "plays_missed",
        "plays_pending",
        "availability",
        "on_time_rate",
        "sessions_planned",
        "sessions_played",
        "last_played",
        "last_seen",
        "online",
    ]
    rows = [
        (
            d.device_id,
            d.name,
            d.ward_code or "",
            d.group_code or "",
            d.planned,
            d.confirmed,
            d.played,
            d.missed,
            d.pending,
            percent(d.availability),
            percent(d.on_time_rate),
            d.sessions_planned,
            d.sessions_played,
            local_time(d.last_played, zone),
            local_time(d.last_seen, zone),
            vi("yes") if d.online else vi("no"),
        )
        for d in report.devices
    ]
    return Section("devices", header, rows)


def wards(report: Report) -> Section:
    """One line a ward, for a report over a district or a province."""
    header = [
        "ward",
        "name",
        "devices",
        "sessions_planned",
        "sessions_played",
        "plays_planned",
        "plays_played",
        "plays_missed",
        "availability",
        "on_time_rate",
        "share",
        "targets_passed",
        "targets_failed",
    ]
    rows = [
        (
            w.ward_code,
            w.name,
            w.devices,
            w.sessions_planned,
            w.sessions_played,
            w.plays_planned,
            w.plays_played,
            w.plays_missed,
            percent(w.availability),
            percent(w.on_time_rate),
            percent(w.coverage_share),
            w.targets_passed,
            w.targets_failed,
        )
        for w in report.wards
    ]
    return Section("wards", header, rows)
