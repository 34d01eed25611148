"""A report as the file asked for: its bytes, media type and download name.

The formats (``format=`` of ``GET /api/v1/reports``):

* ``json`` — the report itself (the API answers it as JSON without this module);
* ``csv`` — one table (``table=summary|targets|days|sources|categories|coverage|devices|
  wards|notes``), UTF-8 with BOM, ``;`` and a decimal comma by default (``sep=comma``:
  ``,`` and a decimal point);
* ``zip`` — every table as its own CSV file, in one archive;
* ``xlsx`` — every table as a sheet of one workbook, typed cells;
* ``pdf`` — the printable report with a signature block.

The language (``lang=vi|en``) is the report's own (:class:`~.model.Report.lang`).
PDF and XLSX load their libraries (fpdf2, openpyxl) only when asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from controller.domain.reports.exports import (
    CSV_MEDIA_TYPE,
    PDF_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    ZIP_MEDIA_TYPE,
    Separator,
    missed_csv,
    report_csv,
    report_csv_zip,
)
from controller.domain.reports.labels import Lang
from controller.domain.reports.model import MissedList, Report
from controller.domain.reports.tables import TableName

FileFormat = Literal["csv", "zip", "xlsx", "pdf"]


@dataclass(frozen=True)
class Download:
    """A file to hand over: its bytes, media type and a safe name."""

    content: bytes
    media_type: str
    filename: str


def safe_name(*parts: str) -> str:
    """A download name with nothing a browser or a shell could trip on."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(p for p in parts if p)).strip("_")


def report_download(
    report: Report, output: FileFormat, table: TableName = "summary", sep: Separator = "semicolon"
) -> Download:
    """The report as a CSV table, a ZIP of every table, an XLSX workbook or a PDF."""
    name = safe_name("wardcast-report", report.scope.code, report.period.label)
    if output == "csv":
        return Download(report_csv(report, table, sep), CSV_MEDIA_TYPE, f"{name}-{table}.csv")
    if output == "zip":
        return Download(report_csv_zip(report, name, sep), ZIP_MEDIA_TYPE, f"{name}.zip")
    if output == "xlsx":
        from controller.domain.reports.xlsx import report_xlsx  # loads openpyxl only when asked

        return Download(report_xlsx(report), XLSX_MEDIA_TYPE, f"{name}.xlsx")
    from controller.domain.reports.pdf import report_pdf  # loads fpdf2 only when asked

    return Download(report_pdf(report), PDF_MEDIA_TYPE, f"{name}.pdf")


def missed_download(
    missed: MissedList, lang: Lang = "vi", sep: Separator = "semicolon"
) -> Download:
    """The missed plays as one CSV table."""
    name = safe_name("wardcast-missed", missed.ward_code, missed.period.label)
    return Download(missed_csv(missed, lang, sep), CSV_MEDIA_TYPE, f"{name}.csv")
