"""Reports as files: CSV (one table each, or all in a ZIP), JSON; XLSX in :mod:`.xlsx`,
PDF in :mod:`.pdf`.

A CSV is one table (:mod:`.tables`): a header row, then its rows; UTF-8 with a
byte-order mark (what makes Excel on Windows read "Phường" as "Phường", not
"PhÆ°á»ng") and CRLF line ends. The separator is an option, and the decimal mark
follows it, as a spreadsheet's regional settings pair them:

* ``semicolon`` (the default): ``;`` between fields, decimal comma (``92,6``) — Excel
  set to Vietnamese (or most of Europe) opens it straight into columns;
* ``comma``: ``,`` between fields, decimal point (``92.6``) — Excel in English, and
  most tools that read CSV.

Numbers carry no thousands separator (so they read back as numbers); dates follow the
report's language (``30/11/2026`` in Vietnamese, ``2026-11-30`` in English).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from typing import Literal
from zoneinfo import ZoneInfo

from controller.domain.reports.cells import Cell, Pct, percent, report_zone, text
from controller.domain.reports.labels import Lang, category_name, label, source_name
from controller.domain.reports.model import MissedList, Report
from controller.domain.reports.tables import Table, table, tables

BOM = "\ufeff"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
ZIP_MEDIA_TYPE = "application/zip"
JSON_MEDIA_TYPE = "application/json"
PDF_MEDIA_TYPE = "application/pdf"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Separator = Literal["semicolon", "comma"]
SEPARATORS: dict[Separator, str] = {"semicolon": ";", "comma": ","}


def _cell(value: Cell, lang: Lang, zone: str, sep: Separator) -> str:
    """A cell for a spreadsheet: numbers with the separator's decimal mark, no grouping."""
    numbers_in: Lang = "vi" if sep == "semicolon" else "en"  # vi: decimal comma
    if isinstance(value, Pct):
        return percent(value.value, numbers_in)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text(value, numbers_in, zone, group=False)
    return text(value, lang, zone)


def _csv(rows: Iterable[Sequence[str]], sep: Separator) -> bytes:
    """Rows as CSV text: BOM, the separator, CRLF line ends, quoted where needed."""
    out = io.StringIO()
    out.write(BOM)
    csv.writer(out, delimiter=SEPARATORS[sep]).writerows(rows)
    return out.getvalue().encode("utf-8")


def table_csv(found: Table, lang: Lang, zone: str, sep: Separator = "semicolon") -> bytes:
    """One table as a CSV file: its header, then its rows."""
    rows = [[_cell(v, lang, zone, sep) for v in row] for row in found.rows]
    return _csv([list(found.header), *rows], sep)


def report_csv(report: Report, key: str = "summary", sep: Separator = "semicolon") -> bytes:
    """The report's table ``key`` (see :data:`~.tables.TABLE_KEYS`) as one CSV file."""
    return table_csv(table(report, key), report.lang, report_zone(report), sep)


def report_csv_zip(report: Report, name: str, sep: Separator = "semicolon") -> bytes:
    """Every table of the report as ``<name>-<table>.csv`` in one ZIP archive."""
    zone = report_zone(report)
    # The archive's dates are the report's own instant: the same report, the same bytes.
    stamp = report.as_of.astimezone(ZoneInfo(zone)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for found in tables(report):
            info = zipfile.ZipInfo(f"{name}-{found.key}.csv", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, table_csv(found, report.lang, zone, sep))
    return out.getvalue()


def missed_csv(missed: MissedList, lang: Lang = "vi", sep: Separator = "semicolon") -> bytes:
    """Missed plays as one CSV table, planned starts in the ward's zone, oldest first."""
    header = [
        "device", "group", "planned_start", "duration_s", "kind", "source_level", "category",
        "bulletin_id", "session", "item_id",
    ]  # fmt: skip
    zone = missed.period.timezone
    rows: list[list[Cell]] = [
        [
            m.device_id,
            m.group_code,
            m.planned_start,
            m.planned_duration_s,
            label(m.kind, lang),
            source_name(m.source_level, lang),
            category_name(m.category, lang) if m.category else None,
            m.bulletin_id,
            m.session_key,
            m.item_id,
        ]
        for m in missed.items
    ]
    found = Table("missed", label("missed_list", lang), [label(h, lang) for h in header], rows)
    return table_csv(found, lang, zone, sep)


def report_json(report: Report) -> bytes:
    """The report as JSON (UTF-8, Vietnamese left as letters, not escapes)."""
    return report.model_dump_json(indent=2).encode("utf-8")
