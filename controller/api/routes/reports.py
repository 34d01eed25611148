"""Reports for evaluators: planned against played, targets judged; CSV, PDF or JSON.

``GET /api/v1/reports`` for a ward (and group), a device, a district or a province and
a period; ``GET /api/v1/evidence/missed`` lists the planned plays nobody confirmed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from controller.api.bounds import CODE_PATTERN
from controller.api.deps import ClockDep, SessionDep, SettingsDep
from controller.api.schemas.reports import MissedListPublic, ReportPublic
from controller.domain.reports.exports import (
    CSV_MEDIA_TYPE,
    PDF_MEDIA_TYPE,
    missed_csv,
    report_csv,
)
from controller.domain.reports.rollups import RollupRules
from controller.domain.reports.service import ReportRequest, build_report, missed_plays
from controller.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["reports"])

ReportFormat = Literal["json", "csv", "pdf"]
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


def rules_of(settings: Settings) -> RollupRules:
    """Tolerance and deadline from the settings when they have them, else the defaults."""
    default = RollupRules()
    return RollupRules(
        tolerance_s=float(getattr(settings, "report_on_time_tolerance_s", default.tolerance_s)),
        deadline_s=float(getattr(settings, "report_missed_deadline_s", default.deadline_s)),
    )


def _filename(*parts: str) -> str:
    """A download name with nothing a browser or a shell could trip on."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(p for p in parts if p)).strip("_")


def _attachment(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/reports",
    response_model=ReportPublic,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}, PDF_MEDIA_TYPE: {}}}},
)
def read_report(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    period: PeriodQuery,
    ward: CodeQuery = None,
    group: CodeQuery = None,
    device: CodeQuery = None,
    district: CodeQuery = None,
    province: CodeQuery = None,
    output: Annotated[ReportFormat, Query(alias="format")] = "json",
) -> Any:
    """Planned against played for the scope and period, with the ward's targets judged."""
    request = ReportRequest(period, ward, group, device, district, province)
    report = build_report(session, request, clock.now(), rules_of(settings))
    name = _filename("wardcast-report", report.scope.code, report.period.label)
    if output == "csv":
        return _attachment(report_csv(report), CSV_MEDIA_TYPE, f"{name}.csv")
    if output == "pdf":
        from controller.domain.reports.pdf import report_pdf  # loads fpdf2 only when asked

        return _attachment(report_pdf(report), PDF_MEDIA_TYPE, f"{name}.pdf")
    return report


@router.get(
    "/evidence/missed",
    response_model=MissedListPublic,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}}},
)
def read_missed(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    period: PeriodQuery,
    ward: CodeQuery = None,
    group: CodeQuery = None,
    device: CodeQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Any:
    """Planned plays not confirmed by their deadline (missed is evidence too), oldest first."""
    request = ReportRequest(period, ward, group, device)
    missed = missed_plays(session, request, clock.now(), rules_of(settings), limit)
    if output == "csv":
        name = _filename("wardcast-missed", missed.ward_code, missed.period.label)
        return _attachment(missed_csv(missed), CSV_MEDIA_TYPE, f"{name}.csv")
    return missed
