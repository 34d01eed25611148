"""The report as a PDF an evaluator can print: Vietnamese text, charts, verdicts.

fpdf2 (pure Python) writes it. The core PDF fonts have no Vietnamese letters
(ư, ơ, ạ, ầ…), so DejaVu Sans is embedded (subset to the letters used); without it
the PDF is refused rather than printed with holes in every name.

Import this module only when a PDF is asked for: it loads fpdf2 (and Pillow).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF, FontFace

from controller.domain.errors import Unavailable
from controller.domain.reports.cells import local_time, percent, verdict
from controller.domain.reports.labels import SCOPE_NAMES, en, vi
from controller.domain.reports.model import DayOut, Report

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu (fonts-dejavu-core)
    Path("/usr/share/fonts/dejavu"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
)
FONT = "DejaVu"
MAX_DEVICE_ROWS = 120  # a province has thousands: the least available are listed
MAX_COVERAGE_ROWS = 40
MAX_FAILED_TARGETS = 60
GREY = (160, 160, 160)
BLUE = (31, 119, 180)
GREEN = (30, 130, 60)
RED = (190, 30, 30)


def find_font(name: str = "DejaVuSans.ttf") -> Path | None:
    """A DejaVu font file on this machine, or None."""
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    return None


def report_pdf(report: Report) -> bytes:
    """Render ``report`` as PDF bytes; Unavailable if no font with Vietnamese letters is found."""
    regular = find_font()
    if regular is None:
        raise Unavailable(
            "PDF reports need the DejaVu Sans font for Vietnamese letters "
            "(Debian: apt install fonts-dejavu-core)"
        )
    bold = find_font("DejaVuSans-Bold.ttf") or regular
    pdf = _Document(report)
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_title(report.title)
    pdf.set_author("Wardcast")
    pdf.set_creator("Wardcast — đài truyền thanh thông minh")
    pdf.alias_nb_pages()
    pdf.add_page()
    _header(pdf, report)
    _summary(pdf, report)
    _sessions_chart(pdf, report.days)
    _compliance(pdf, report)
    _sources(pdf, report)
    _categories(pdf, report)
    _coverage(pdf, report)
    if report.wards:
        _wards(pdf, report)
    _devices(pdf, report)
    _notes(pdf, report)
    return bytes(pdf.output())


class _Document(FPDF):
    """A4 pages with the report's title and a page number at the foot."""

    def __init__(self, report: Report) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report = report
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(14, 14, 14)

    def footer(self) -> None:
        """Title and page number on every page."""
        self.set_y(-11)
        self.set_font(FONT, size=7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self.report.title} — Trang {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _heading(pdf: FPDF, key: str) -> None:
    if pdf.get_y() > pdf.h - 40:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 7, vi(key), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(110, 110, 110)
    pdf.cell(0, 4, en(key), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=9)


def _table(
    pdf: FPDF,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    colours: Sequence[tuple[int, int, int] | None] | None = None,
) -> None:
    """A table with a bold bilingual header; ``colours`` tints each row's last cell."""
    pdf.set_font(FONT, size=8)
    with pdf.table(
        col_widths=tuple(widths),
        width=pdf.epw,
        line_height=4.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        first_row_as_headings=True,
        text_align="LEFT",
        padding=0.8,
    ) as table:
        head = table.row()
        for key in header:
            head.cell(f"{vi(key)}\n{en(key)}" if vi(key) != en(key) else vi(key))
        for i, values in enumerate(rows):
            row = table.row()
            colour = colours[i] if colours is not None else None
            for j, value in enumerate(values):
                if colour is not None and j == len(values) - 1:
                    row.cell(value, style=FontFace(emphasis="BOLD", color=colour))
                else:
                    row.cell(value)
    pdf.set_font(FONT, size=9)


def _header(pdf: FPDF, report: Report) -> None:
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, vi("title"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 12)
    kind = SCOPE_NAMES[report.scope.kind][0]
    pdf.multi_cell(
        0, 6, f"{kind} {report.scope.name} ({report.scope.code})", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(FONT, size=9)
    zone, period, rules = report.period.timezone, report.period, report.rules
    lines = [
        f"{vi('period')}: {period.label} ({period.first:%d/%m/%Y} – {period.last:%d/%m/%Y})",
        f"{vi('timezone')}: {zone}",
        f"{vi('as_of')}: {local_time(report.as_of, zone if zone != 'per ward' else 'UTC')}",
        f"{vi('tolerance')}: {rules.on_time_tolerance_s:g} · "
        f"{vi('deadline')}: {rules.missed_deadline_s:g}",
    ]
    for line in lines:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")


def _summary(pdf: FPDF, report: Report) -> None:
    _heading(pdf, "summary")
    p, s, o = report.plays, report.sessions, report.outcomes
    rows = [
        ("sessions_planned", str(s.planned)),
        ("sessions_played", f"{s.played} ({percent(s.played_rate) or '–'} %)"),
        ("plays_planned", str(p.planned)),
        ("plays_confirmed", f"{p.confirmed} ({percent(p.confirmed_rate) or '–'} %)"),
        ("plays_played", f"{p.played} ({percent(p.played_rate) or '–'} %)"),
        ("plays_missed", str(p.missed)),
        ("plays_pending", str(p.pending)),
        ("plays_unplanned", str(p.unplanned)),
        ("on_time_rate", f"{percent(p.on_time_rate) or '–'} % ({p.on_time}/{p.timed})"),
        (
            "outcomes",
            f"{vi('completed')} {o.completed} · {vi('partial')} {o.partial} · "
            f"{vi('preempted')} {o.preempted} · {vi('failed')} {o.failed} · "
            f"{vi('skipped')} {o.skipped}",
        ),
    ]
    _table(pdf, ["measure", "figure"], [(f"{vi(k)} ({en(k)})", v) for k, v in rows], (45, 55))


def _buckets(days: Sequence[DayOut]) -> list[tuple[str, int, int]]:
    """(label, planned, played) per day for short periods, per week or month for long ones."""
    if len(days) <= 45:
        return [(f"{d.date:%d/%m}", d.sessions_planned, d.sessions_played) for d in days]
    grouped: dict[str, list[int]] = {}
    for d in days:
        if len(days) <= 190:
            iso = d.date.isocalendar()
            key = f"W{iso.week:02d}"
        else:
            key = f"{d.date:%m/%Y}"
        grouped.setdefault(key, [0, 0])
        grouped[key][0] += d.sessions_planned
        grouped[key][1] += d.sessions_played
    return [(k, v[0], v[1]) for k, v in grouped.items()]


def _sessions_chart(pdf: FPDF, days: Sequence[DayOut]) -> None:
    """Bars of sessions planned (grey) and played (blue) per day, week or month."""
    _heading(pdf, "chart_sessions")
    buckets = _buckets(days)
    height, left = 55.0, pdf.l_margin + 10
    width = pdf.epw - 10
    if pdf.get_y() + height + 20 > pdf.h - 15:
        pdf.add_page()
    top = pdf.get_y() + 2
    base = top + height
    peak = max([1] + [max(p, q) for _, p, q in buckets])
    pdf.set_draw_color(120, 120, 120)
    pdf.line(left, top, left, base)
    pdf.line(left, base, left + width, base)
    pdf.set_font(FONT, size=6)
    for fraction in (0.5, 1.0):
        y = base - height * fraction
        pdf.set_draw_color(220, 220, 220)
        pdf.line(left, y, left + width, y)
        pdf.set_xy(pdf.l_margin, y - 2)
        pdf.cell(9, 4, f"{peak * fraction:g}", align="R")
    slot = width / max(1, len(buckets))
    bar = max(0.3, slot * 0.4)
    every = max(1, -(-len(buckets) // 12))  # at most 12 labels under the axis
    for i, (label, planned, played) in enumerate(buckets):
        x = left + i * slot + slot * 0.1
        for value, colour, shift in ((planned, GREY, 0.0), (played, BLUE, bar)):
            if value:
                h = height * value / peak
                pdf.set_fill_color(*colour)
                pdf.rect(x + shift, base - h, bar, h, style="F")
        if i % every == 0:
            pdf.set_xy(x - 2, base + 1)
            pdf.cell(slot * every, 3, label)
    legend_y = base + 6
    for i, (key, colour) in enumerate((("chart_planned", GREY), ("chart_played", BLUE))):
        x = left + i * 45
        pdf.set_fill_color(*colour)
        pdf.rect(x, legend_y + 0.8, 3, 3, style="F")
        pdf.set_xy(x + 4, legend_y)
        pdf.set_font(FONT, size=8)
        pdf.cell(40, 4.5, f"{vi(key)} ({en(key)})")
    pdf.set_xy(pdf.l_margin, legend_y + 7)
    pdf.set_font(FONT, size=9)
    pdf.set_fill_color(255, 255, 255)  # tables fill with the current colour


def _compliance(pdf: FPDF, report: Report) -> None:
    _heading(pdf, "compliance")
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
    _table(
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
    _table(pdf, ["target", "passed", "failed_target", "unjudged"], rows, (88, 20, 20, 20))
    pdf.ln(2)


def _sources(pdf: FPDF, report: Report) -> None:
    _heading(pdf, "sources")
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
    _table(pdf, header, rows, (24, 22, 22, 22, 22, 22))


def _categories(pdf: FPDF, report: Report) -> None:
    if not report.categories:
        return
    _heading(pdf, "categories")
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
    _table(
        pdf,
        ["category", "bulletins", "plays_planned", "plays_played", "plays_missed"],
        rows,
        (40, 20, 25, 25, 25),
    )


def _coverage(pdf: FPDF, report: Report) -> None:
    if not report.coverage:
        return
    _heading(pdf, "coverage")
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
    _table(
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


def _wards(pdf: FPDF, report: Report) -> None:
    _heading(pdf, "wards")
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
    _table(pdf, header, rows, (40, 13, 20, 24, 16, 17, 15, 17))


def _devices(pdf: FPDF, report: Report) -> None:
    _heading(pdf, "devices")
    ranked = sorted(
        report.devices,
        key=lambda d: (d.availability if d.availability is not None else 2.0, d.device_id),
    )
    shown = ranked[:MAX_DEVICE_ROWS]
    zone = report.period.timezone if report.period.timezone != "per ward" else "UTC"
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
    _table(pdf, header, rows, (40, 22, 20, 18, 16, 18, 28))
    if len(ranked) > len(shown):
        pdf.cell(
            0,
            5,
            f"… {len(ranked) - len(shown)} cụm loa khác (more devices: see CSV/JSON)",
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _notes(pdf: FPDF, report: Report) -> None:
    _heading(pdf, "rules")
    texts = [report.rules.session_played, report.rules.relay_minutes, *report.notes]
    for text in texts:
        pdf.multi_cell(0, 4.5, f"• {text}", new_x="LMARGIN", new_y="NEXT")
