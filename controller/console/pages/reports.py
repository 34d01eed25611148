"""Reports (báo cáo): a ward's (or group's) period, charts, and the files to download.

The report is the domain's (``report_for``: refused outside the reader's wards), as
``GET /api/v1/reports`` makes it; the files are the domain's too (``report_download``),
served here with the console's cookie session (the API takes a bearer token). Charts are
inline SVG drawn on the server (:mod:`controller.console.charts`): planned against played
per day and per source level, with the same numbers in a table.

Reading a report changes nothing, so every role with wards may open it, evaluators first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.api.routes.reports import rules_of
from controller.console.charts import bar_chart
from controller.console.deps import PageDep
from controller.console.i18n import refusal_text
from controller.console.page import FormValues, Page
from controller.console.period_picker import CUSTOM, KINDS, pick
from controller.console.timefmt import to_local
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.places.access import visible_wards
from controller.domain.places.service import groups_of
from controller.domain.reports.access import report_for
from controller.domain.reports.cells import short_day
from controller.domain.reports.downloads import Download, report_download, safe_name
from controller.domain.reports.labels import Lang
from controller.domain.reports.model import Report
from controller.domain.reports.periods import parse_period
from controller.domain.reports.scope import ReportRequest

router = APIRouter(prefix="/reports")

FORMATS = ("csv", "zip", "xlsx", "pdf", "json")
FileKind = Literal["csv", "zip", "xlsx", "pdf"]
FILE_KINDS: dict[str, FileKind] = {"csv": "csv", "zip": "zip", "xlsx": "xlsx", "pdf": "pdf"}


def default_period(now: datetime, tz: str) -> str:
    """This month, in the ward's calendar."""
    return f"month:{to_local(now, tz):%Y-%m}"


def choices(page: Page, session: Session, ward: str) -> dict[str, Any]:
    """The wards the reader may report on, and the groups of the chosen one."""
    assert page.actor is not None
    wards = [(w.code, f"{w.name} ({w.code})") for w in visible_wards(session, page.actor)]
    known = {code for code, _ in wards}
    groups = [(g.code, g.name) for g in groups_of(session, ward)] if ward in known else []
    return {"wards": wards, "groups": groups}


def read_request(
    page: Page, session: Session
) -> tuple[FormValues, ReportRequest | None, dict[str, str]]:
    """The query as typed, the report request it makes, and what is wrong with it."""
    q = page.request.query_params
    wards = choices(page, session, "")["wards"]
    ward = q.get("ward") or (wards[0][0] if wards else "")
    picked = pick(
        q.get("kind") or "",
        q.get("on") or "",
        q.get("period") or "",
        q.get("shown") or "",
        default_period(page.now, page.tz),
    )
    period = picked.period
    group = q.get("group") or ""
    form = FormValues(
        {
            "ward": [ward],
            "group": [group],
            "period": [period],
            "kind": [picked.kind],
            "on": [picked.on],
        }
    )
    errors: dict[str, str] = {}
    if ward not in {code for code, _ in wards}:
        errors["ward"] = page.t("reports.ward_missing")
    if picked.on_bad:
        errors["on"] = page.t("reports.on_bad")
        return form, None, errors
    try:
        parse_period(period)
    except InvalidInput as exc:
        # The domain's period.* code, in the reader's language, beside the field.
        errors["period"] = refusal_text(page.t, exc, "reports.period_bad")
    if errors:
        return form, None, errors
    return (
        form,
        ReportRequest(period, ward, group or None, lang="en" if page.lang == "en" else "vi"),
        {},
    )


def build(page: Page, session: Session, request: ReportRequest) -> Report:
    """The report, as the API builds it for this reader."""
    assert page.actor is not None
    rules = rules_of(page.runtime.settings)
    return report_for(session, page.actor, request, page.now, rules)


def charts(page: Page, report: Report) -> dict[str, Any]:
    """Planned against played per day and per source level (its name in the page's words)."""
    lang: Lang = "en" if page.lang == "en" else "vi"
    days = [(short_day(d.date, lang), d.plays_planned, d.plays_played) for d in report.days]
    sources = [
        (page.t(f"source.{s.source_level}"), s.plays_planned, s.plays_played)
        for s in report.sources
    ]
    return {"day_chart": bar_chart(days), "source_chart": bar_chart(sources)}


@router.get("")
def report_page(page: PageDep, session: SessionDep) -> Response:
    """The form; with a valid query, the report, its charts and the download buttons."""
    form, request, errors = read_request(page, session)
    context = choices(page, session, form.get("ward"))
    report = None
    if request is not None:
        try:
            report = build(page, session, request)
        except (InvalidInput, NotFound) as exc:
            field = "group" if request.group and isinstance(exc, NotFound) else "period"
            errors[field] = refusal_text(page.t, exc, "reports.refused")
    if report is not None:
        context.update(charts(page, report))
    return page.render(
        "reports/report.html",
        status=422 if errors else 200,
        form=form,
        errors=errors,
        report=report,
        formats=FORMATS,
        kinds=[(k, page.t(f"reports.kind_{k}")) for k in KINDS]
        + [(CUSTOM, page.t("reports.kind_custom"))],
        query=urlencode({k: form.get(k) for k in ("ward", "group", "period") if form.get(k)}),
        **context,
    )


@router.get("/export")
def report_export(page: PageDep, session: SessionDep) -> Response:
    """The report as a file: CSV (one table), ZIP, XLSX, PDF, or JSON."""
    output = page.request.query_params.get("format", "pdf")
    _form, request, _errors = read_request(page, session)
    if request is None or output not in FORMATS:
        return report_page(page, session)
    report = build(page, session, request)
    if output == "json":
        name = safe_name("wardcast-report", report.scope.code, report.period.label) + ".json"
        found = Download(report.model_dump_json(indent=1).encode(), "application/json", name)
    else:
        found = report_download(report, FILE_KINDS[output])
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Cache-Control": "no-store",
        },
    )
