"""The report as an XLSX workbook: one sheet per table, typed cells (openpyxl).

Numbers are numbers, rates are fractions shown as per cent, dates are dates and
instants are local date-times in the report's zone: the spreadsheet's own regional
settings then show them the reader's way (1.234,5 in Vietnamese), and sums and
filters work. Each sheet has a bold header row, frozen, with a filter on it.
Import this module only when an XLSX is asked for: it loads openpyxl.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from controller.domain.reports.cells import Cell, Pct, report_zone
from controller.domain.reports.labels import Lang
from controller.domain.reports.model import Report
from controller.domain.reports.tables import Table, tables

_HEADER_FILL = PatternFill("solid", fgColor="E8E8E8")
_MAX_WIDTH = 60  # characters: longer text wraps
_SHEET_NAME_LIMIT = 31  # Excel's


def report_xlsx(report: Report) -> bytes:
    """Every table of the report, one sheet each, as XLSX bytes."""
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    zone = report_zone(report)
    for found in tables(report):
        _sheet(book.create_sheet(sheet_name(found.title)), found, report.lang, zone)
    # Dated by the report's own instant: the same report gives the same workbook.
    created = report.as_of.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    book.properties.created = book.properties.modified = created
    book.properties.creator = "Wardcast"
    book.properties.title = report.title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def sheet_name(title: str) -> str:
    """A sheet name Excel accepts: no ``[]:*?/\\``, at most 31 characters."""
    return re.sub(r"[\[\]:*?/\\]", "-", title)[:_SHEET_NAME_LIMIT]


def _sheet(sheet: Worksheet, found: Table, lang: Lang, zone: str) -> None:
    sheet.append(list(found.header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [len(h) for h in found.header]
    for row in found.rows:
        sheet.append([_value(v, zone) for v in row])
        for j, (value, cell) in enumerate(zip(row, sheet[sheet.max_row], strict=True)):
            if isinstance(cell, SheetCell):  # (never a merged cell: none are merged)
                _format(cell, value, lang)
            widths[j] = max(widths[j], _shown_width(value))
    for j, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = min(_MAX_WIDTH, width + 2)
        if width > _MAX_WIDTH:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    if found.rows:
        sheet.auto_filter.ref = sheet.dimensions


def _value(value: Cell, zone: str) -> str | int | float | date | datetime | None:
    """What openpyxl stores: a fraction for a rate, a naive local time for an instant."""
    if isinstance(value, Pct):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return value


def _format(cell: SheetCell, value: Cell, lang: Lang) -> None:
    """The number format that shows ``value`` as the report means it."""
    day = "dd/mm/yyyy" if lang == "vi" else "yyyy-mm-dd"
    if isinstance(value, Pct):
        cell.number_format = "0.0%"
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int):
        cell.number_format = "#,##0"
    elif isinstance(value, float):
        cell.number_format = "#,##0.0#"
    elif isinstance(value, datetime):
        cell.number_format = f"{day} hh:mm"
    elif isinstance(value, date):
        cell.number_format = day


def _shown_width(value: Cell) -> int:
    """Roughly how many characters a cell shows."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date | Pct):
        return 10
    return len(str(value))
