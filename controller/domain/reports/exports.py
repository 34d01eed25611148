"""Reports as files: CSV (UTF-8 with BOM, for Excel), JSON, and PDF (see :mod:`.pdf`).

The CSV is one file in sections (summary, targets, days, sources, categories,
coverage, devices, wards, notes), each with a Vietnamese (English) title row and
header row, separated by a blank line (the sections are in :mod:`.csv_sections`).
The byte-order mark is what makes Excel on Windows read it as UTF-8, so "Phường"
does not arrive as "PhÆ°á»ng".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from controller.domain.reports import csv_sections
from controller.domain.reports.cells import Cell, local_time
from controller.domain.reports.csv_sections import Section
from controller.domain.reports.labels import LABELS, both, vi
from controller.domain.reports.model import MissedList, Report

BOM = "\ufeff"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
PDF_MEDIA_TYPE = "application/pdf"


class _Sheet:
    """A CSV being written: UTF-8 with BOM, CRLF line ends (Excel's defaults)."""

    def __init__(self) -> None:
        self._out = io.StringIO()
        self._out.write(BOM)
        self._writer = csv.writer(self._out)

    def rows(self, rows: Iterable[Sequence[Cell]]) -> None:
        """Lines as they are."""
        self._writer.writerows(rows)

    def section(self, section: Section) -> None:
        """A titled table: its title and label-key headers in both languages, a blank line after."""
        self._writer.writerow([both(section.title)])
        self._writer.writerow([both(h) if h in LABELS else h for h in section.header])
        self._writer.writerows(section.rows)
        self._writer.writerow([])

    def bytes(self) -> bytes:
        """Everything written, encoded."""
        return self._out.getvalue().encode("utf-8")


def report_csv(report: Report) -> bytes:
    """The report as one sectioned CSV, UTF-8 with BOM, CRLF line ends (Excel's defaults)."""
    sheet = _Sheet()
    sheet.rows([*csv_sections.heading(report), []])
    for section in csv_sections.sections(report):
        sheet.section(section)
    return sheet.bytes()


def missed_csv(missed: MissedList) -> bytes:
    """Missed plays as a CSV (UTF-8 with BOM), planned starts in the ward's zone."""
    sheet = _Sheet()
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
    sheet.rows(
        [
            [both("missed_list"), missed.ward_code, missed.period.label, missed.total],
            [both(h) for h in header] + ["item_id"],
        ]
    )
    sheet.rows(
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
        for m in missed.items
    )
    return sheet.bytes()


def report_json(report: Report) -> bytes:
    """The report as JSON (UTF-8, Vietnamese left as letters, not escapes)."""
    return report.model_dump_json(indent=2).encode("utf-8")
