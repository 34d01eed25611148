"""Reports for evaluators: planned against played, targets judged; JSON, CSV, XLSX or PDF.

``GET /api/v1/reports`` for a ward (and group), a device, a district or a province and
a period; ``GET /api/v1/evidence/missed`` lists the planned plays nobody confirmed. The
files are made by :mod:`controller.domain.reports.downloads` (formats, tables, separators
and languages are described there and in docs/reports.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from controller.api.bounds import CODE_PATTERN
from controller.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from controller.api.schemas.reports import MissedListPublic, ReportPublic
from controller.domain.reports.access import missed_for, report_for
from controller.domain.reports.downloads import (
    Download,
    FileFormat,
    missed_download,
    report_download,
)
from controller.domain.reports.exports import (
    CSV_MEDIA_TYPE,
    PDF_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    ZIP_MEDIA_TYPE,
    Separator,
)
from controller.domain.reports.labels import Lang
from controller.domain.reports.rollups import RollupRules
from controller.domain.reports.service import ReportRequest
from controller.domain.reports.tables import TableName
from controller.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["reports"])

ReportFormat = Literal["json", "csv", "zip", "xlsx", "pdf"]
PeriodQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        description="day:2026-11-22, week:2026-W47, month:2026-11, quarter:2026-Q4, "
        "year:2026, or 2026-11-01..2026-11-30 (local dates, both included).",
    ),
]
CodeQuery = Annotated[str | None, Query(pattern=CODE_PATTERN)]
FormatQuery = Annotated[
    ReportFormat,
    Query(
        alias="format",
        description="json (the default); csv: one table (see `table`); zip: every table as "
        "its own CSV file; xlsx: every table as a sheet of one workbook (typed cells); "
        "pdf: the printable report with verdicts, chart, method and a signature block.",
    ),
]
TableQuery = Annotated[
    TableName,
    Query(
        description="For format=csv: which table (one table per file). `wards` has lines "
        "only over a district or a province; `notes` holds the method text and the notes.",
    ),
]
SepQuery = Annotated[
    Separator,
    Query(
        description="For CSV (csv, zip): `semicolon` (default) separates fields with ';' and "
        "writes decimals with a comma (92,6), as Excel set to Vietnamese expects; `comma` "
        "uses ',' and a decimal point (92.6). Always UTF-8 with a byte-order mark, CRLF.",
    ),
]
LangQuery = Annotated[
    Lang,
    Query(
        description="Language of the texts (titles, headers, categories, verdicts, method, "
        "notes): vi (default; numbers 1.234,5, dates 30/11/2026) or en (1,234.5, "
        "2026-11-30). JSON keys stay English.",
    ),
]


def rules_of(settings: Settings) -> RollupRules:
    """Tolerance and deadline from the settings when they have them, else the defaults."""
    default = RollupRules()
    return RollupRules(
        tolerance_s=float(getattr(settings, "report_on_time_tolerance_s", default.tolerance_s)),
        deadline_s=float(getattr(settings, "report_missed_deadline_s", default.deadline_s)),
    )


def _attachment(found: Download) -> Response:
    return Response(
        found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.get(
    "/reports",
    response_model=ReportPublic,
    responses={
        200: {
            "content": {
                CSV_MEDIA_TYPE: {},
                ZIP_MEDIA_TYPE: {},
                XLSX_MEDIA_TYPE: {},
                PDF_MEDIA_TYPE: {},
            }
        }
    },
)
def read_report(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    clock: ClockDep,
    period: PeriodQuery,
    ward: CodeQuery = None,
    group: CodeQuery = None,
    device: CodeQuery = None,
    district: CodeQuery = None,
    province: CodeQuery = None,
    output: FormatQuery = "json",
    table: TableQuery = "summary",
    sep: SepQuery = "semicolon",
    lang: LangQuery = "vi",
) -> Any:
    """Planned against played for the scope and period, with the ward's targets judged.

    Days before the ward's programme applied are not judged ("chưa áp dụng"). As a file:
    `format=csv&table=…` (one table), `zip` (every table as CSV), `xlsx` (a sheet per
    table) or `pdf`; CSV separators by `sep`, the language by `lang`.
    """
    request = ReportRequest(period, ward, group, device, district, province, lang)
    report = report_for(session, actor, request, clock.now(), rules_of(settings))
    if output == "json":
        return report
    file_format: FileFormat = output
    return _attachment(report_download(report, file_format, table, sep))


@router.get(
    "/evidence/missed",
    response_model=MissedListPublic,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}}},
)
def read_missed(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    clock: ClockDep,
    period: PeriodQuery,
    ward: CodeQuery = None,
    group: CodeQuery = None,
    device: CodeQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    sep: SepQuery = "semicolon",
    lang: LangQuery = "vi",
) -> Any:
    """Planned plays not confirmed by their deadline (missed is evidence too), oldest first."""
    request = ReportRequest(period, ward, group, device)
    missed = missed_for(session, actor, request, clock.now(), rules_of(settings), limit)
    if output == "csv":
        return _attachment(missed_download(missed, lang, sep))
    return missed
