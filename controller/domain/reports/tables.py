"""The report as tables, one per part: what a CSV file or an XLSX sheet holds.

Each table has a key (``summary``, ``targets``, …: the ``table=`` of a CSV request), a
title and header in the report's language, and rows of typed cells (see
:mod:`.cells`) that each writer renders its own way. The PDF arranges the same
figures for a printed page in :mod:`.pdf_tables`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from controller.domain.reports import texts
from controller.domain.reports.cells import Cell, Pct, verdict
from controller.domain.reports.labels import (
    category_name,
    label,
    place_title,
    source_name,
    target_kind_name,
)
from controller.domain.reports.model import Report

TableName = Literal[
    "summary", "targets", "days", "sources", "categories", "coverage", "devices", "wards",
    "notes",
]  # fmt: skip
TABLE_KEYS: tuple[TableName, ...] = get_args(TableName)
_TITLES = {"targets": "compliance", "notes": "notes"}


@dataclass(frozen=True)
class Table:
    """One table: its key, title, header (in the report's language) and typed rows."""

    key: str
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def tables(report: Report) -> list[Table]:
    """Every table the report has (the per-ward one only over many wards)."""
    return [table(report, key) for key in TABLE_KEYS if key != "wards" or report.wards]


def table(report: Report, key: str) -> Table:
    """The table ``key`` of the report (one of :data:`TABLE_KEYS`)."""
    header_keys, rows = _BUILDERS[key](report)
    lang = report.lang
    header = [label(h, lang) if isinstance(h, str) else h[0] for h in header_keys]
    return Table(key, label(_TITLES.get(key, key), lang), header, rows)


# A header entry is a label key, or a 1-tuple holding text already in the language.
Header = Sequence[str | tuple[str]]
Built = tuple[Header, list[list[Cell]]]


def _summary(report: Report) -> Built:
    lang, scope, period, rules = report.lang, report.scope, report.period, report.rules
    p, s, o = report.plays, report.sessions, report.outcomes
    pairs: list[tuple[str, Cell]] = [
        ("report", report.title),
        ("scope", place_title(scope.kind, scope.name, lang)),
        ("code", scope.code),
        ("period", texts.period_name(period, lang)),
        ("first", period.first),
        ("last", period.last),
        ("timezone", period.timezone),
        ("as_of", report.as_of),
        ("tolerance", rules.on_time_tolerance_s),
        ("deadline", rules.missed_deadline_s),
        ("sessions_planned", s.planned),
        ("sessions_played", s.played),
        ("sessions_rate", Pct(s.played_rate)),
        ("plays_planned", p.planned),
        ("plays_confirmed", p.confirmed),
        ("plays_played", p.played),
        ("played_rate", Pct(p.played_rate)),
        ("plays_missed", p.missed),
        ("plays_pending", p.pending),
        ("plays_withdrawn", p.withdrawn),
        ("plays_unplanned", p.unplanned),
        ("availability", Pct(p.confirmed_rate)),
        ("on_time_rate", Pct(p.on_time_rate)),
        ("completed", o.completed),
        ("partial", o.partial),
        ("preempted", o.preempted),
        ("failed", o.failed),
        ("skipped", o.skipped),
    ]
    return ["measure", "value"], [[label(k, lang), v] for k, v in pairs]


def _targets(report: Report) -> Built:
    lang = report.lang
    header = [
        "ward_code", "target_code", "target", "description", "kind", "minimum", "source_level",
        "verdict", "judged", "met", "in_force_from", "days_not_applicable", "figure", "failing",
    ]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            t.ward_code,
            t.code,
            texts.target_statement(t.kind, t.minimum, t.source_level, lang),
            t.description,
            target_kind_name(t.kind, lang),
            t.minimum,
            source_name(t.source_level, lang),
            verdict(t, lang),
            t.judged,
            t.met,
            t.in_force_from,
            t.not_applicable,
            t.figure,
            "; ".join(t.failing),
        ]
        for t in report.compliance
    ]
    return header, rows


def _days(report: Report) -> Built:
    lang = report.lang
    levels = sorted({level for d in report.days for level in d.relay_minutes})
    header: list[str | tuple[str]] = [
        "date", "in_force", "sessions_planned", "sessions_played", "plays_planned",
        "plays_played", "plays_missed",
    ]  # fmt: skip
    header += [(f"{label('relay_minutes', lang)}: {source_name(lv, lang)}",) for lv in levels]
    rows: list[list[Cell]] = [
        [
            d.date,
            label("yes" if d.in_force else "not_applicable", lang),
            d.sessions_planned,
            d.sessions_played,
            d.plays_planned,
            d.plays_played,
            d.plays_missed,
            *[d.relay_minutes.get(level, 0.0) for level in levels],
        ]
        for d in report.days
    ]
    return header, rows


def _sources(report: Report) -> Built:
    header = [
        "source_level", "planned_relay_h", "relayed_h", "planned_content_h", "played_content_h",
        "plays_planned", "plays_played",
    ]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            source_name(x.source_level, report.lang),
            x.planned_relay_h,
            x.relayed_h,
            x.planned_content_h,
            x.played_content_h,
            x.plays_planned,
            x.plays_played,
        ]
        for x in report.sources
    ]
    return header, rows


def _categories(report: Report) -> Built:
    header = ["category", "bulletins", "plays_planned", "plays_played", "plays_missed"]
    rows: list[list[Cell]] = [
        [
            category_name(c.category, report.lang),
            c.bulletins,
            c.plays_planned,
            c.plays_played,
            c.plays_missed,
        ]
        for c in report.categories
    ]
    return header, rows


def _coverage(report: Report) -> Built:
    header = [
        "ward_code", "bulletin_id", "bulletin", "category", "targeted_groups", "covered_groups",
        "share", "uncovered",
    ]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            c.ward_code,
            c.bulletin_id,
            c.title,
            category_name(c.category, report.lang),
            c.targeted_groups,
            c.covered_groups,
            Pct(c.share),
            ", ".join(c.uncovered),
        ]
        for c in report.coverage
    ]
    return header, rows


def _devices(report: Report) -> Built:
    header = [
        "device", "name", "ward_code", "group", "plays_planned", "plays_confirmed",
        "plays_played", "plays_missed", "plays_pending", "availability", "on_time_rate",
        "sessions_planned", "sessions_played", "last_played", "last_seen", "online",
    ]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            d.device_id,
            d.name,
            d.ward_code,
            d.group_code,
            d.planned,
            d.confirmed,
            d.played,
            d.missed,
            d.pending,
            Pct(d.availability),
            Pct(d.on_time_rate),
            d.sessions_planned,
            d.sessions_played,
            d.last_played,
            d.last_seen,
            label("yes" if d.online else "no", report.lang),
        ]
        for d in report.devices
    ]
    return header, rows


def _wards(report: Report) -> Built:
    header = [
        "ward_code", "name", "devices", "sessions_planned", "sessions_played", "plays_planned",
        "plays_played", "plays_missed", "availability", "on_time_rate", "share",
        "targets_passed", "targets_failed", "unjudged",
    ]  # fmt: skip
    rows: list[list[Cell]] = [
        [
            w.ward_code,
            w.name,
            w.devices,
            w.sessions_planned,
            w.sessions_played,
            w.plays_planned,
            w.plays_played,
            w.plays_missed,
            Pct(w.availability),
            Pct(w.on_time_rate),
            Pct(w.coverage_share),
            w.targets_passed,
            w.targets_failed,
            w.targets_unjudged,
        ]
        for w in report.wards
    ]
    return header, rows


def method_texts(report: Report) -> list[str]:
    """The method's paragraphs, in the order a reader needs them (written afresh for a
    report that does not carry them, such as one read back from older JSON)."""
    r = report.rules
    found = [r.plays, r.session_played, r.relay_minutes, r.coverage, r.availability, r.targets]
    if not any(found):
        found = list(texts.method(r.on_time_tolerance_s, r.missed_deadline_s, report.lang).values())
    return [text for text in found if text]


def _notes(report: Report) -> Built:
    method, note = label("method", report.lang), label("notes", report.lang)
    rows: list[list[Cell]] = [[method, text] for text in method_texts(report)]
    rows += [[note, text] for text in report.notes]
    return ["part", "note"], rows


_BUILDERS: dict[str, Callable[[Report], Built]] = {
    "summary": _summary,
    "targets": _targets,
    "days": _days,
    "sources": _sources,
    "categories": _categories,
    "coverage": _coverage,
    "devices": _devices,
    "wards": _wards,
    "notes": _notes,
}
