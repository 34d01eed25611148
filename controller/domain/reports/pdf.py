"""The report as a PDF an inspector can sign: masthead, title, figures, verdicts, chart,
method, and a signature block.

fpdf2 (pure Python) writes it. The core PDF fonts have no Vietnamese letters
(ư, ơ, ạ, ầ…), so DejaVu Sans is embedded (subset to the letters used); without it
the PDF is refused rather than printed with holes in every name. The same report
gives the same bytes: the file is dated by the report's ``as_of``.

The page and its primitives are in :mod:`.pdf_layout`, the tables in
:mod:`.pdf_tables`, the chart in :mod:`.pdf_chart`. Import this module only when a
PDF is asked for: it loads fpdf2 (and Pillow).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from controller.domain.errors import Unavailable
from controller.domain.reports import pdf_tables, texts
from controller.domain.reports.cells import local_time, number, report_zone
from controller.domain.reports.labels import label, place_title
from controller.domain.reports.model import Report
from controller.domain.reports.pdf_chart import chart
from controller.domain.reports.pdf_layout import FONT, TEXT_GREY, ReportPdf

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu (fonts-dejavu-core)
    Path("/usr/share/fonts/dejavu"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
)
_SIGNATURE_ROOM = 48.0  # mm: titles, the date line and room to sign


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
    pdf = ReportPdf(report)
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_title(report.title)
    pdf.set_author("Wardcast")
    pdf.set_creator(label("software", report.lang))
    pdf.set_lang(report.lang)
    pdf.alias_nb_pages()
    pdf.add_page()
    _masthead(pdf, report)
    _title(pdf, report)
    pdf_tables.summary(pdf, report)
    pdf_tables.compliance(pdf, report)
    chart(pdf, report)
    pdf_tables.sources(pdf, report)
    pdf_tables.categories(pdf, report)
    pdf_tables.coverage(pdf, report)
    if report.wards:
        pdf_tables.wards(pdf, report)
    pdf_tables.devices(pdf, report)
    pdf_tables.method(pdf, report)
    _signatures(pdf, report)
    return bytes(pdf.output())


def _authority(report: Report) -> str:
    """The body the report is made for: the ward (for its groups and devices too)."""
    scope, lang = report.scope, report.lang
    if scope.kind in ("group", "device") and scope.ward_name:
        place = place_title("ward", scope.ward_name, lang)
    else:
        place = place_title(scope.kind, scope.name, lang)
    return f"{label('authority', lang)} {place}"


def _masthead(pdf: ReportPdf, report: Report) -> None:
    """The issuing body on the left, the national motto on the right (as on every
    Vietnamese administrative document)."""
    top, half = pdf.get_y(), pdf.epw / 2
    authority = _authority(report)
    pdf.set_font(FONT, "B", 9)
    pdf.multi_cell(half - 6, 4.5, authority.upper() if pdf.lang == "vi" else authority, align="C")
    left_end = pdf.get_y()
    line_w = min(half - 20, 30.0)
    pdf.line(pdf.l_margin + (half - 6 - line_w) / 2, left_end + 0.8,
             pdf.l_margin + (half - 6 + line_w) / 2, left_end + 0.8)  # fmt: skip
    pdf.set_xy(pdf.l_margin + half - 6, top)
    pdf.set_font(FONT, "B", 8.5)
    pdf.cell(half + 6, 4.5, label("motto_country", pdf.lang), align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "B", 9)
    motto = label("motto", pdf.lang)
    pdf.cell(half + 6, 4.5, motto, align="C", new_x="LEFT", new_y="NEXT")
    motto_w = pdf.get_string_width(motto)
    centre = pdf.l_margin + half - 6 + (half + 6) / 2
    pdf.line(centre - motto_w / 2, pdf.get_y() + 0.3, centre + motto_w / 2, pdf.get_y() + 0.3)
    pdf.set_y(max(left_end, pdf.get_y()) + 7)


def _title(pdf: ReportPdf, report: Report) -> None:
    """What, where and when, then the facts a reader needs to trust the figures."""
    lang, scope, period, rules = pdf.lang, report.scope, report.period, report.rules
    heading = label("title", lang)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, heading.upper() if lang == "vi" else heading, align="C",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font(FONT, "B", 11)
    place = place_title(scope.kind, scope.name, lang)
    what = f"{place} — {texts.period_name(period, lang)}"
    if period.kind not in ("day", "range"):  # their names already are their dates
        what += f" ({texts.date_span(period, lang)})"
    pdf.multi_cell(0, 6, what, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    facts = (
        (
            f"{label('code', lang)}: {scope.code}",
            f"{label('timezone', lang)}: {period.timezone}",
            f"{label('as_of', lang)}: {local_time(report.as_of, report_zone(report), lang)}",
        ),
        (
            f"{label('tolerance', lang)}: {number(rules.on_time_tolerance_s, lang)}",
            f"{label('deadline', lang)}: {number(rules.missed_deadline_s, lang)}",
        ),
    )
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(*TEXT_GREY)
    for line in facts:
        pdf.multi_cell(0, 4.2, "  ·  ".join(line), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def _signatures(pdf: ReportPdf, report: Report) -> None:
    """Who prepared it and who answers for it, each with room to sign; place and date."""
    if pdf.get_y() + _SIGNATURE_ROOM > pdf.h - pdf.b_margin:
        pdf.add_page()
    lang = pdf.lang
    pdf.ln(6)
    top, half = pdf.get_y(), pdf.epw / 2
    scope = report.scope
    place = scope.ward_name or scope.name
    when = report.as_of.astimezone(ZoneInfo(report_zone(report))).date()
    right = pdf.l_margin + half
    pdf.set_font(FONT, size=9)
    pdf.set_xy(right, top)
    pdf.cell(half, 5, texts.signed_date(place, when, lang), align="C")
    for x, lines in (
        (pdf.l_margin, (label("preparer", lang), label("sign_hint", lang))),
        (right, (label("approver", lang), label("approver_role", lang), label("seal_hint", lang))),
    ):
        pdf.set_xy(x, top + 6)
        for line in lines:
            hint = line.startswith("(")
            pdf.set_font(FONT, "" if hint else "B", 8 if hint else 9)
            pdf.cell(half, 4.6, line, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_y(top + _SIGNATURE_ROOM)
