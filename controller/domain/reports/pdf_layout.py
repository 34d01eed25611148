"""How the PDF is drawn: the page, its font and colours, numbered headings, tables.

Shared by the report's parts (:mod:`.pdf`, :mod:`.pdf_tables`, :mod:`.pdf_chart`), so
every section looks the same. Tables never break a word: each column is made at least
as wide as its longest word (header in bold included), the width taken from the
columns that have room to spare, so a header reads "Mức tối thiểu", not "Minimu m".
"""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF, FontFace

from controller.domain.reports.labels import Lang, label
from controller.domain.reports.model import Report

FONT = "DejaVu"
GREY = (160, 160, 160)
LIGHT = (235, 235, 235)
BLUE = (31, 119, 180)
GREEN = (30, 130, 60)
RED = (190, 30, 30)
TEXT_GREY = (100, 100, 100)
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
_PADDING = 0.9
TABLE_SIZE = 8.0

_ALIGN = {"L": "LEFT", "R": "RIGHT", "C": "CENTER"}


class ReportPdf(FPDF):
    """A4 pages in the report's language, numbered sections, a footer on every page."""

    def __init__(self, report: Report) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report = report
        self.lang: Lang = report.lang
        self.sections = 0
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(15, 14, 15)
        # The file's dates are the report's own instant: the same report, the same PDF.
        self.set_creation_date(report.as_of.replace(microsecond=0))

    def footer(self) -> None:
        """The report's title and the page number, in grey."""
        self.set_y(-11)
        self.set_font(FONT, size=7)
        self.set_text_color(*TEXT_GREY)
        page = label("page", self.lang)
        self.cell(0, 5, f"{self.report.title} — {page} {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, key: str, room: float = 40.0) -> None:
        """A numbered section heading ("II. Đánh giá chỉ tiêu"); a new page near the foot."""
        if self.get_y() > self.h - room:
            self.add_page()
        self.ln(2.5)
        number = _ROMAN[self.sections] if self.sections < len(_ROMAN) else str(self.sections + 1)
        self.sections += 1
        self.set_font(FONT, "B", 11)
        self.cell(0, 7, f"{number}. {label(key, self.lang)}", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=9)

    def paragraph(self, text: str, size: float = 8.5, height: float = 4.2) -> None:
        """Running text across the page."""
        self.set_font(FONT, size=size)
        self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    def note(self, text: str) -> None:
        """A grey line under a table (rows left out, and the like)."""
        self.set_font(FONT, size=7.5)
        self.set_text_color(*TEXT_GREY)
        self.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)


def fit_widths(
    pdf: FPDF, header: Sequence[str], rows: Sequence[Sequence[str]], wanted: Sequence[float]
) -> list[float]:
    """Column widths filling the page, each at least its longest word, else as ``wanted``."""
    total = pdf.epw
    least = []
    for j, head in enumerate(header):
        pdf.set_font(FONT, "B", TABLE_SIZE)
        need = max((pdf.get_string_width(w) for w in head.split()), default=0.0)
        pdf.set_font(FONT, size=TABLE_SIZE)
        for row in rows:
            words = row[j].split() if j < len(row) else []
            need = max([need, *(pdf.get_string_width(w) for w in words)])
        least.append(need + 2 * _PADDING + 0.6)
    scale = total / sum(wanted)
    widths = [w * scale for w in wanted]
    if sum(least) >= total:
        return [w * total / sum(least) for w in least]  # cannot fit: words must break
    for _ in range(len(widths)):
        short = [j for j, w in enumerate(widths) if w < least[j]]
        if not short:
            break
        for j in short:
            widths[j] = least[j]
        spare = {j: widths[j] - least[j] for j in range(len(widths)) if widths[j] > least[j]}
        excess = sum(widths) - total
        room = sum(spare.values())
        for j, slack in spare.items():
            widths[j] -= excess * slack / room
    return widths


def table(
    pdf: FPDF,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    align: str = "",
    colours: Sequence[tuple[int, int, int] | None] | None = None,
) -> None:
    """A table with a bold header row; ``colours`` tints (in bold) each row's last cell.

    ``align`` has a letter per column (L, R or C: "LRR" for a name and two figures);
    columns it does not reach are left-aligned.
    """
    fitted = fit_widths(pdf, header, rows, widths)
    pdf.set_font(FONT, size=TABLE_SIZE)
    pdf.set_draw_color(190, 190, 190)
    with pdf.table(
        col_widths=tuple(fitted),
        width=pdf.epw,
        line_height=4.0,
        headings_style=FontFace(emphasis="BOLD", fill_color=LIGHT),
        first_row_as_headings=True,
        text_align=tuple(_ALIGN[a] for a in align.ljust(len(header), "L")),
        padding=_PADDING,
        borders_layout="HORIZONTAL_LINES",
        cell_fill_color=(247, 247, 247),
        cell_fill_mode="EVEN_ROWS",
    ) as grid:
        head = grid.row()
        for text in header:
            head.cell(text)
        for i, values in enumerate(rows):
            row = grid.row()
            colour = colours[i] if colours is not None else None
            for j, value in enumerate(values):
                if colour is not None and j == len(values) - 1:
                    row.cell(value, style=FontFace(emphasis="BOLD", color=colour))
                else:
                    row.cell(value)
    pdf.set_font(FONT, size=9)
    pdf.set_draw_color(0, 0, 0)
