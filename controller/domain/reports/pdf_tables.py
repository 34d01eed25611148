"""The PDF's tables: targets, sources, categories, coverage, wards and devices.

Long lists are cut to what a printed page can hold (the least available devices,
the least covered bulletins, the failed targets over many wards); the CSV and JSON
always carry every line.
"""

from __future__ import annotations

from fpdf import FPDF

from controller.domain.reports.cells import local_time, percent, report_zone, verdict
from controller.domain.reports.labels import vi
from controller.domain.reports.model import Report
from controller.domain.reports.pdf_layout import GREEN, GREY, RED, heading, table

MAX_DEVICE_ROWS = 120  # a province has thousands: the least available are listed
MAX_COVERAGE_ROWS = 40
MAX_FAILED_TARGETS = 60


def compliance(pdf: FPDF, report: Report) -> None:
    """Each target's verdict; over many wards, a tally per target and the failed ones."""
    heading(pdf, "compliance")
    if not report.compliance:
        pdf.multi_cell(0, 5, "—", new_x="LMARGIN", new_y="NEXT")
        return
    targets = report.compliance
    if report.scope.wards > 1:
        _compliance_summary(pdf, report)
        # Every ward's every target would run to pages: those that failed are listed.
        targets = [t for t in targets if t.passed is False][:MAX_FAILED_TARGETS]
        if not targets:
            return
    rows, colours = [], []
    for t in targets:
        source = f" · {vi(t.source_level)}" if t.source_level else ""
        failing = f"\n{vi('failing')}: " + "; ".join(t.failing[:10]) if t.failing else ""
        rows.append(
            (
                t.ward_code,
                f"{t.description}\n({t.code}, {t.kind}{source})",
                f"{t.minimum:g}",
                f"{t.figure}{failing}",
                verdict(t.passed),
            )
        )
        colours.append(GREY if t.passed is None else (GREEN if t.passed else RED))
    table(
        pdf,
        ["ward", "target", "minimum", "figure", "verdict"],
        rows,
        (14, 50, 14, 70, 20),
        colours=colours,
    )


def _compliance_summary(pdf: FPDF, report: Report) -> None:
    """Per target code: how many wards passed, failed, or could not be judged yet."""
    counts: dict[tuple[str, str], list[int]] = {}
    for t in report.compliance:
        tally = counts.setdefault((t.code, t.description), [0, 0, 0])
        tally[0 if t.passed else (1 if t.passed is False else 2)] += 1
    rows = [
        (f"{description}\n({code})", str(p), str(f), str(u))
        for (code, description), (p, f, u) in sorted(counts.items())
    ]
    table(pdf, ["target", "passed", "failed_target", "unjudged"], rows, (88, 20, 20, 20))
    pdf.ln(2)


def sources(pdf: FPDF, report: Report) -> None:
    """Hours relayed and played per source level."""
    heading(pdf, "sources")
    rows = [
        (
            vi(x.source_level),
            f"{x.planned_relay_h:g}",
            f"{x.relayed_h:g}",
            f"{x.planned_content_h:g}",
            f"{x.played_content_h:g}",
            f"{x.plays_played}/{x.plays_planned}",
        )
        for x in report.sources
    ]
    header = [
        "source_level",
        "planned_relay_h",
        "relayed_h",
        "planned_content_h",
        "played_content_h",
        "plays_played",
    ]
    table(pdf, header, rows, (24, 22, 22, 22, 22, 22))


def categories(pdf: FPDF, report: Report) -> None:
    """Bulletins and their plays per category, when there are any."""
    if not report.categories:
        return
    heading(pdf, "categories")
    rows = [
        (
            c.category,
            str(c.bulletins),
            str(c.plays_planned),
            str(c.plays_played),
            str(c.plays_missed),
        )
        for c in report.categories
    ]
    table(
        pdf,
        ["category", "bulletins", "plays_planned", "plays_played", "plays_missed"],
        rows,
        (40, 20, 25, 25, 25),
    )


def coverage(pdf: FPDF, report: Report) -> None:
    """The least covered bulletins and the groups that did not hear them."""
    if not report.coverage:
        return
    heading(pdf, "coverage")
    shown = report.coverage[:MAX_COVERAGE_ROWS]
    rows = [
        (
            c.title or c.bulletin_id,
            c.category,
            f"{c.covered_groups}/{c.targeted_groups}",
            f"{percent(c.share)} %",
            ", ".join(c.uncovered[:12]),
        )
        for c in shown
    ]
    table(
        pdf,
        ["bulletin", "category", "covered_groups", "share", "uncovered"],
        rows,
        (55, 22, 20, 15, 40),
    )
    if len(report.coverage) > len(shown):
        pdf.cell(
            0,
            5,
            f"… {len(report.coverage) - len(shown)} bản tin khác (more bulletins: see CSV/JSON)",
            new_x="LMARGIN",
            new_y="NEXT",
        )


def wards(pdf: FPDF, report: Report) -> None:
    """One line per ward of a district or province."""
    heading(pdf, "wards")
    rows = [
        (
            f"{w.name} ({w.ward_code})",
            str(w.devices),
            f"{w.sessions_played}/{w.sessions_planned}",
            f"{w.plays_played}/{w.plays_planned}",
            str(w.plays_missed),
            f"{percent(w.availability)} %",
            f"{percent(w.coverage_share)} %",
            f"{w.targets_passed}/{w.targets_passed + w.targets_failed + w.targets_unjudged}",
        )
        for w in report.wards
    ]
    header = [
        "ward",
        "devices",
        "sessions_played",
        "plays_played",
        "plays_missed",
        "availability",
        "share",
        "targets_passed",
    ]
    table(pdf, header, rows, (40, 13, 20, 24, 16, 17, 15, 17))


def devices(pdf: FPDF, report: Report) -> None:
    """The least available devices first, up to a page's worth."""
    heading(pdf, "devices")
    ranked = sorted(
        report.devices,
        key=lambda d: (d.availability if d.availability is not None else 2.0, d.device_id),
    )
    shown = ranked[:MAX_DEVICE_ROWS]
    zone = report_zone(report)
    rows = [
        (
            f"{d.name} ({d.device_id})" if d.name != d.device_id else d.device_id,
            d.group_code or "",
            f"{d.confirmed}/{d.planned - d.pending}",
            f"{percent(d.availability)} %",
            str(d.missed),
            f"{percent(d.on_time_rate)} %",
            local_time(d.last_seen, zone),
        )
        for d in shown
    ]
    header = [
        "device",
        "group",
        "plays_confirmed",
        "availability",
        "plays_missed",
        "on_time_rate",
        "last_seen",
    ]
    table(pdf, header, rows, (40, 22, 20, 18, 16, 18, 28))
    if len(ranked) > len(shown):
        pdf.cell(
            0,
            5,
            f"… {len(ranked) - len(shown)} cụm loa khác (more devices: see CSV/JSON)",
            new_x="LMARGIN",
            new_y="NEXT",
        )
