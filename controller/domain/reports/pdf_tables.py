"""The PDF's tables: summary, targets, sources, categories, coverage, wards, devices, and
the method text.

Long lists are cut to what a printed page can hold (the least available devices,
the least covered bulletins, the failed targets over many wards); the CSV, XLSX and
JSON always carry every line.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.domain.reports import texts
from controller.domain.reports.cells import local_time, number, percent, report_zone, verdict
from controller.domain.reports.labels import Lang, category_name, label, source_name
from controller.domain.reports.model import Report, TargetOut
from controller.domain.reports.pdf_layout import GREEN, RED, TEXT_GREY, ReportPdf, table
from controller.domain.reports.tables import method_texts

MAX_DEVICE_ROWS = 120  # a province has thousands: the least available are listed
MAX_COVERAGE_ROWS = 40
MAX_FAILED_TARGETS = 60
MAX_FAILING_SHOWN = 10


def head(keys: Sequence[str], lang: Lang) -> list[str]:
    """Column headers for the page: the cells carry their own "%", the header need not."""
    return [label(k, lang).replace(" (%)", "") for k in keys]


def _pct(rate: float | None, lang: Lang) -> str:
    return f"{percent(rate, lang)}%" if rate is not None else "–"


def _of(part: int, whole: int, lang: Lang) -> str:
    return f"{number(part, lang)}/{number(whole, lang)}"


def summary(pdf: ReportPdf, report: Report) -> None:
    """The headline figures, with their rates and the targets' verdicts counted."""
    pdf.heading("summary")
    lang, p, s, o = pdf.lang, report.plays, report.sessions, report.outcomes
    statuses: list[str] = [t.status for t in report.compliance]
    tally = " · ".join(
        f"{label(key, lang)} {statuses.count(status)}"
        for status, key in (
            ("passed", "passed"),
            ("failed", "failed_target"),
            ("unjudged", "unjudged"),
            ("not_applicable", "not_applicable"),
        )
        if statuses.count(status) or status in ("passed", "failed")
    )
    rows = [
        ("sum_sessions", f"{_of(s.played, s.planned, lang)} ({_pct(s.played_rate, lang)})"),
        ("sum_plays", f"{_of(p.played, p.planned, lang)} ({_pct(p.played_rate, lang)})"),
        ("plays_confirmed", f"{number(p.confirmed, lang)} ({_pct(p.confirmed_rate, lang)})"),
        ("plays_missed", number(p.missed, lang)),
        ("plays_pending", number(p.pending, lang)),
        ("plays_withdrawn", number(p.withdrawn, lang)),
        ("plays_unplanned", number(p.unplanned, lang)),
        ("on_time_rate", f"{_pct(p.on_time_rate, lang)} ({_of(p.on_time, p.timed, lang)})"),
        (
            "outcomes",
            " · ".join(
                f"{label(k, lang)} {number(getattr(o, k), lang)}"
                for k in ("completed", "partial", "preempted", "failed", "skipped")
            ),
        ),
        ("sum_targets", tally if report.compliance else "–"),
    ]
    names = head([k for k, _ in rows], lang)
    table(
        pdf,
        head(["measure", "value"], lang),
        list(zip(names, (v for _, v in rows), strict=True)),
        (62, 118),
    )


def _verdict_colour(t: TargetOut) -> tuple[int, int, int]:
    return {"passed": GREEN, "failed": RED}.get(t.status, TEXT_GREY)


def compliance(pdf: ReportPdf, report: Report) -> None:
    """Each target's verdict; over many wards, a tally per target and the failed ones."""
    pdf.heading("compliance")
    lang = pdf.lang
    if not report.compliance:
        pdf.paragraph(label("no_targets", lang))
        return
    targets = report.compliance
    many = report.scope.wards > 1
    if many:
        _compliance_tally(pdf, report)
        # Every ward's every target would run to pages: those that failed are listed.
        targets = [t for t in targets if t.status == "failed"][:MAX_FAILED_TARGETS]
        if not targets:
            return
    rows, colours = [], []
    for i, t in enumerate(targets, start=1):
        failing = ""
        if t.failing:
            shown = "; ".join(t.failing[:MAX_FAILING_SHOWN])
            more = "; …" if len(t.failing) > MAX_FAILING_SHOWN else ""
            failing = f"\n{label('failing', lang)}: {shown}{more}"
        statement = texts.target_statement(t.kind, t.minimum, t.source_level, lang)
        cells = [
            str(i),
            f"{statement}\n“{t.description}” ({t.code})",
            texts.minimum_text(t.kind, t.minimum, lang),
            f"{t.figure}{failing}",
            verdict(t, lang),
        ]
        rows.append([t.ward_code, *cells] if many else cells)
        colours.append(_verdict_colour(t))
    header = ["number", "target", "minimum", "figure", "verdict"]
    widths = [8, 58, 20, 70, 20]
    if many:
        header, widths = ["ward_code", *header], [16, *widths]
    table(pdf, head(header, lang), rows, widths, colours=colours)


def _compliance_tally(pdf: ReportPdf, report: Report) -> None:
    """Per target code: how many wards met it, did not, or could not be judged."""
    counts: dict[tuple[str, str], list[int]] = {}
    order = ("passed", "failed", "unjudged", "not_applicable")
    for t in report.compliance:
        tally = counts.setdefault((t.code, t.description), [0, 0, 0, 0])
        tally[order.index(t.status)] += 1
    lang = pdf.lang
    rows = [
        (f"“{description}” ({code})", *(number(n, lang) for n in tally))
        for (code, description), tally in sorted(counts.items())
    ]
    keys = ("target", "passed", "failed_target", "unjudged", "not_applicable")
    table(pdf, head(keys, lang), rows, (88, 22, 22, 24, 24))
    pdf.ln(2)


def sources(pdf: ReportPdf, report: Report) -> None:
    """Hours relayed and played per source level."""
    pdf.heading("sources")
    lang = pdf.lang
    rows = [
        (
            source_name(x.source_level, lang),
            number(x.planned_relay_h, lang, 2),
            number(x.relayed_h, lang, 2),
            number(x.planned_content_h, lang, 2),
            number(x.played_content_h, lang, 2),
            _of(x.plays_played, x.plays_planned, lang),
        )
        for x in report.sources
    ]
    keys = (
        "source_level", "planned_relay_h", "relayed_h", "planned_content_h", "played_content_h",
        "sum_plays",
    )  # fmt: skip
    header = head(keys, lang)
    table(pdf, header, rows, (30, 28, 28, 28, 28, 38), align="LRRRRR")


def categories(pdf: ReportPdf, report: Report) -> None:
    """Bulletins and their plays per category, when there are any."""
    if not report.categories:
        return
    pdf.heading("categories")
    lang = pdf.lang
    rows = [
        (
            category_name(c.category, lang),
            number(c.bulletins, lang),
            number(c.plays_planned, lang),
            number(c.plays_played, lang),
            number(c.plays_missed, lang),
        )
        for c in report.categories
    ]
    keys = ("category", "bulletins", "plays_planned", "plays_played", "plays_missed")
    header = head(keys, lang)
    table(pdf, header, rows, (60, 30, 30, 30, 30), align="LRRRR")


def coverage(pdf: ReportPdf, report: Report) -> None:
    """The least covered bulletins and the groups that did not hear them."""
    if not report.coverage:
        return
    pdf.heading("coverage")
    lang = pdf.lang
    shown = report.coverage[:MAX_COVERAGE_ROWS]
    rows = [
        (
            c.title or c.bulletin_id,
            category_name(c.category, lang),
            _of(c.covered_groups, c.targeted_groups, lang),
            _pct(c.share, lang),
            ", ".join(c.uncovered[:12]) + (", …" if len(c.uncovered) > 12 else ""),
        )
        for c in shown
    ]
    keys = ("bulletin", "category", "covered_groups", "share", "uncovered")
    table(pdf, head(keys, lang), rows, (62, 32, 24, 20, 42), align="LLRRL")
    if len(report.coverage) > len(shown):
        pdf.note(f"… {number(len(report.coverage) - len(shown), lang)} {label('more_rows', lang)}")


def wards(pdf: ReportPdf, report: Report) -> None:
    """One line per ward of a district or province."""
    pdf.heading("wards")
    lang = pdf.lang
    rows = [
        (
            f"{w.name} ({w.ward_code})",
            number(w.devices, lang),
            _of(w.sessions_played, w.sessions_planned, lang),
            _of(w.plays_played, w.plays_planned, lang),
            number(w.plays_missed, lang),
            _pct(w.availability, lang),
            _pct(w.coverage_share, lang),
            _of(w.targets_passed, w.targets_passed + w.targets_failed + w.targets_unjudged, lang),
        )
        for w in report.wards
    ]
    keys = (
        "ward", "devices", "sum_sessions", "sum_plays", "plays_missed", "availability", "share",
        "targets_passed",
    )  # fmt: skip
    header = head(keys, lang)
    table(pdf, header, rows, (40, 14, 22, 24, 16, 20, 20, 20), align="LRRRRRRR")


def devices(pdf: ReportPdf, report: Report) -> None:
    """The least available devices first, up to a page's worth."""
    pdf.heading("devices")
    lang = pdf.lang
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
            _of(d.confirmed, d.planned - d.pending, lang),
            _pct(d.availability, lang),
            number(d.missed, lang),
            _pct(d.on_time_rate, lang),
            local_time(d.last_seen, zone, lang),
        )
        for d in shown
    ]
    keys = (
        "device", "group", "plays_confirmed", "availability", "plays_missed", "on_time_rate",
        "last_seen",
    )  # fmt: skip
    widths = (46, 18, 22, 20, 16, 20, 28)
    table(pdf, head(keys, lang), rows, widths, align="LLRRRRL")
    if len(ranked) > len(shown):
        pdf.note(f"… {number(len(ranked) - len(shown), lang)} {label('more_rows', lang)}")


def method(pdf: ReportPdf, report: Report) -> None:
    """How every figure is counted, then the notes on this report's figures."""
    pdf.heading("method")
    for paragraph in method_texts(report):
        pdf.paragraph(f"• {paragraph}")
    if report.notes:
        pdf.ln(1)
        pdf.set_font(pdf.font_family, "B", 9)
        pdf.cell(0, 5, label("notes", pdf.lang), new_x="LMARGIN", new_y="NEXT")
        for note in report.notes:
            pdf.paragraph(f"• {note}")
