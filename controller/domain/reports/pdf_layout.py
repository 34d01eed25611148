"""How the PDF is drawn: its font and colours, a bilingual section heading, a table.

Shared by the report's parts in :mod:`.pdf` and :mod:`.pdf_tables`, so every section
looks the same: a Vietnamese heading with its English below in grey, and tables with
a bold bilingual header row.
"""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF, FontFace

from controller.domain.reports.labels import en, vi

FONT = "DejaVu"
GREY = (160, 160, 160)
BLUE = (31, 119, 180)
GREEN = (30, 130, 60)
RED = (190, 30, 30)


def heading(pdf: FPDF, key: str) -> None:
    """A section's heading: Vietnamese, with the English below in grey; a new page near the foot."""
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


def table(
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
    ) as grid:
        head = grid.row()
        for key in header:
            head.cell(f"{vi(key)}\n{en(key)}" if vi(key) != en(key) else vi(key))
        for i, values in enumerate(rows):
            row = grid.row()
            colour = colours[i] if colours is not None else None
            for j, value in enumerate(values):
                if colour is not None and j == len(values) - 1:
                    row.cell(value, style=FontFace(emphasis="BOLD", color=colour))
                else:
                    row.cell(value)
    pdf.set_font(FONT, size=9)
