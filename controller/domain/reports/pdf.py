"""The report as a PDF an evaluator can print: Vietnamese text, charts, verdicts.

fpdf2 (pure Python) writes it. The core PDF fonts have no Vietnamese letters
(ư, ơ, ạ, ầ…), so DejaVu Sans is embedded (subset to the letters used); without it
the PDF is refused rather than printed with holes in every name.

The drawing primitives are in :mod:`.pdf_layout`, the tables in :mod:`.pdf_tables`.
Import this module only when a PDF is asked for: it loads fpdf2 (and Pillow).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from controller.domain.errors import Unavailable
from controller.domain.reports import pdf_tables
from controller.domain.reports.cells import local_time, percent, report_zone
from controller.domain.reports.labels import SCOPE_NAMES, en, vi
from controller.domain.reports.model import DayOut, Report
from controller.domain.reports.pdf_layout import BLUE, FONT, GREY, heading, table

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu (fonts-dejavu-core)
    Path("/usr/share/fonts/dejavu"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
)


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
    pdf_tables.compliance(pdf, report)
    pdf_tables.sources(pdf, report)
    pdf_tables.categories(pdf, report)
    pdf_tables.coverage(pdf, report)
    if report.wards:
        pdf_tables.wards(pdf, report)
    pdf_tables.devices(pdf, report)
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
        f"{vi('as_of')}: {local_time(report.as_of, report_zone(report))}",
        f"{vi('tolerance')}: {rules.on_time_tolerance_s:g} · "
        f"{vi('deadline')}: {rules.missed_deadline_s:g}",
    ]
    for line in lines:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")


def _summary(pdf: FPDF, report: Report) -> None:
    heading(pdf, "summary")
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
    table(pdf, ["measure", "figure"], [(f"{vi(k)} ({en(k)})", v) for k, v in rows], (45, 55))


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
    heading(pdf, "chart_sessions")
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


def _notes(pdf: FPDF, report: Report) -> None:
    heading(pdf, "rules")
    texts = [report.rules.session_played, report.rules.relay_minutes, *report.notes]
    for text in texts:
        pdf.multi_cell(0, 4.5, f"• {text}", new_x="LMARGIN", new_y="NEXT")
