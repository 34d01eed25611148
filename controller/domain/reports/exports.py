"""Reports as files: CSV (UTF-8 with BOM, for Excel), JSON, and PDF (see :mod:`.pdf`).

The CSV is one file in sections (summary, targets, days, sources, categories,
coverage, devices, wards, notes), each with a Vietnamese (English) title row and
header row, separated by a blank line. The byte-order mark is what makes Excel on
Windows read it as UTF-8, so "Phường" does not arrive as "PhÆ°á»ng".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from controller.domain.reports.labels import LABELS, SCOPE_NAMES, both, en, vi
from controller.domain.reports.model import MissedList, Report

BOM = "\ufeff"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
PDF_MEDIA_TYPE = "application/pdf"

Cell = str | int | float | None


def percent(value: float | None) -> str:
    """A 0..1 rate as ``95.2`` (per cent, one decimal), or empty when there is none."""
    return "" if value is None else f"{value * 100:.1f}"


def verdict(passed: bool | None) -> str:
    """Đạt / Không đạt / Chưa đánh giá."""
    if passed is None:
        return vi("unjudged")
    return vi("passed") if passed else vi("failed_target")


def local_time(value: datetime | None, zone: str) -> str:
    """An instant in the report's zone, to the minute (UTC when zones differ)."""
    if value is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _tz(report: Report) -> str:
    return report.period.timezone if report.period.timezone != "per ward" else "UTC"


def report_csv(report: Report) -> bytes:
    """The report as one sectioned CSV, UTF-8 with BOM, CRLF line ends (Excel's defaults)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)

    def section(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
        writer.writerow([both(title)])
        writer.writerow([both(h) if h in LABELS else h for h in header])
        writer.writerows(rows)
        writer.writerow([])

    zone = _tz(report)
    writer.writerow([report.title])
    writer.writerow([both("scope"), f"{SCOPE_NAMES[report.scope.kind][0]} {report.scope.name}"])
    writer.writerow([both("code"), report.scope.code])
    writer.writerow(
        [both("period"), report.period.label, str(report.period.first), str(report.period.last)]
    )
    writer.writerow([both("timezone"), report.period.timezone])
    writer.writerow([both("as_of"), local_time(report.as_of, zone)])
    writer.writerow([both("tolerance"), report.rules.on_time_tolerance_s])
    writer.writerow([both("deadline"), report.rules.missed_deadline_s])
    writer.writerow([])
    p, s, o = report.plays, report.sessions, report.outcomes
    section(
        "summary",
        ["measure", "figure"],
        [
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
        ],
    )
    section(
        "compliance",
        ["ward", "target", "kind", "minimum", "source_level", "verdict", "figure", "failing"],
        [
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
        ],
    )
    levels = sorted({level for d in report.days for level in d.relay_minutes})
    section(
        "days",
        [
            "date",
            "sessions_planned",
            "sessions_played",
            "plays_planned",
            "plays_played",
            "plays_missed",
        ]
        + [
            f"{vi('relay_minutes')} {vi(level)} ({en('relay_minutes')}, {en(level)})"
            for level in levels
        ],
        [
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
        ],
    )
    section(
        "sources",
        [
            "source_level",
            "planned_relay_h",
            "relayed_h",
            "planned_content_h",
            "played_content_h",
            "plays_planned",
            "plays_played",
        ],
        [
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
        ],
    )
    section(
        "categories",
        ["category", "bulletins", "plays_planned", "plays_played", "plays_missed"],
        [
            (c.category, c.bulletins, c.plays_planned, c.plays_played, c.plays_missed)
            for c in report.categories
        ],
    )
    section(
        "coverage",
        [
            "ward",
            "bulletin",
            "name",
            "category",
            "targeted_groups",
            "covered_groups",
            "share",
            "uncovered",
        ],
        [
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
        ],
    )
    section(
        "devices",
        [
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
        ],
        [
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
        ],
    )
    if report.wards:
        section(
            "wards",
            [
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
            ],
            [
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
            ],
        )
    if report.notes:
        section("notes", ["notes"], [(note,) for note in report.notes])
    return out.getvalue().encode("utf-8")


def missed_csv(missed: MissedList) -> bytes:
    """Missed plays as a CSV (UTF-8 with BOM), planned starts in the ward's zone."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow([both("missed_list"), missed.ward_code, missed.period.label, missed.total])
    header = [
        "device",
        "group",
        "planned_start",
        "duration_s",
        "kind",
        "source_level",
        "category",
        "bulletin",
        "session",
    ]
    writer.writerow([both(h) for h in header] + ["item_id"])
    for m in missed.items:
        writer.writerow(
            [
                m.device_id,
                m.group_code or "",
                local_time(m.planned_start, missed.period.timezone),
                m.planned_duration_s,
                m.kind,
                vi(m.source_level),
                m.category or "",
                m.bulletin_id or "",
                m.session_key or "",
                m.item_id,
            ]
        )
    return out.getvalue().encode("utf-8")


def report_json(report: Report) -> bytes:
    """The report as JSON (UTF-8, Vietnamese left as letters, not escapes)."""
    return report.model_dump_json(indent=2).encode("utf-8")
