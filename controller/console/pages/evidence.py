"""The evidence viewer (bằng chứng phát): filter, page through, download a signed bundle.

Rows come from :func:`controller.domain.evidence.search.search_evidence` (only the
reader's wards). The bundle is the API's (``access.bundle_for`` + ``dump_bundle``: the
very bytes ``wardcast evidence verify`` reads), served with the console's cookie session;
the page shows the command that verifies it offline, with the file's name, the ward and
this controller's public key. Dates are the ward's calendar days, the last one included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import PageDep
from controller.console.page import FormValues, Page
from controller.db.models import Device
from controller.domain.actors import Actor
from controller.domain.devices.access import visible_devices
from controller.domain.evidence import access
from controller.domain.evidence.bundles.format import dump_bundle, period_label
from controller.domain.evidence.search import EvidenceFilter, search_evidence
from controller.domain.places.access import visible_wards
from controller.domain.places.service import groups_of
from controller.domain.reports.periods import day_start_utc
from wardcast_protocol.messages import Outcome, SourceLevel

router = APIRouter(prefix="/evidence")

PAGE_SIZE = 50
FIELDS = ("ward", "group", "device", "from", "to", "outcome", "source")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Query:
    """The filters as understood, with the ward's zone and the period's UTC bounds."""

    filter: EvidenceFilter
    timezone: str
    first: date | None
    last: date | None


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def read_query(page: Page, session: Session) -> tuple[FormValues, Query, dict[str, str]]:
    """The filters as typed, as understood, and what is wrong with them (inline)."""
    q = page.request.query_params
    form = FormValues({name: [q.get(name, "")] for name in FIELDS})
    wards = {w.code: w for w in visible_wards(session, _actor(page))}
    errors: dict[str, str] = {}
    ward = form.get("ward") or None
    if ward is not None and ward not in wards:
        errors["ward"] = page.t("evidence.ward_missing")
        ward = None
    tz = wards[ward].timezone if ward else page.tz
    first = last = None
    try:
        first = _date(form.get("from"))
    except ValueError:
        errors["from"] = page.t("evidence.date_bad")
    try:
        last = _date(form.get("to"))
    except ValueError:
        errors["to"] = page.t("evidence.date_bad")
    if first and last and last < first:
        errors["to"] = page.t("evidence.period_backwards")
    outcome = form.get("outcome") or None
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        errors["outcome"] = page.t("evidence.choose")
    source = form.get("source") or None
    if source is not None and source not in {s.value for s in SourceLevel}:
        errors["source"] = page.t("evidence.choose")
    found = EvidenceFilter(
        ward_code=ward,
        group_code=(form.get("group") or None) if ward else None,
        device_id=form.get("device") or None,
        start=day_start_utc(first, tz) if first and "from" not in errors else None,
        end=day_start_utc(last + timedelta(days=1), tz) if last and "to" not in errors else None,
        outcome=outcome if "outcome" not in errors else None,
        source_level=source if "source" not in errors else None,
    )
    return form, Query(found, tz, first, last), errors


def _actor(page: Page) -> Actor:
    assert page.actor is not None
    return page.actor


def options(page: Page, session: Session, ward: str) -> dict[str, Any]:
    """The choices of each filter."""
    actor = _actor(page)
    wards = [(w.code, f"{w.name} ({w.code})") for w in visible_wards(session, actor)]
    devices: list[Device] = [
        d for d in visible_devices(session, actor) if not ward or d.ward_code == ward
    ]
    any_ = ("", page.t("evidence.any"))
    return {
        "wards": [any_, *wards],
        "groups": [any_, *((g.code, g.name) for g in groups_of(session, ward))] if ward else [any_],
        "devices": [any_, *((d.id, d.id) for d in devices)],
        "outcomes": [any_, *((o.value, page.t("outcome." + o.value)) for o in Outcome)],
        "sources": [any_, *((s.value, page.t("source." + s.value)) for s in SourceLevel)],
    }


def bundle_name(ward: str, start: datetime, end: datetime, tz: str) -> str:
    """The file name the bundle is downloaded under (as the API names it)."""
    return _UNSAFE.sub("_", f"wardcast-evidence-{ward}-{period_label(start, end, tz)}.json")


@router.get("")
def evidence_page(page: PageDep, session: SessionDep) -> Response:
    """Filters, one page of rows, the bundle download and its verify command."""
    form, query, errors = read_query(page, session)
    try:
        number = max(1, int(page.request.query_params.get("page", "1")))
    except ValueError:
        number = 1
    found = search_evidence(
        session, _actor(page), query.filter, PAGE_SIZE, (number - 1) * PAGE_SIZE
    )
    f = query.filter
    bundle = None
    if f.ward_code and f.start and f.end and not errors:
        name = bundle_name(f.ward_code, f.start, f.end, query.timezone)
        key = page.runtime.key.public_key_b64
        bundle = {
            "href": "/evidence/bundle?"
            + urlencode({k: form.get(k) for k in ("ward", "from", "to")}),
            "name": name,
            "command": f"wardcast evidence verify {name} --ward {f.ward_code} "
            f"--controller-key {key}",
        }
    kept = {k: form.get(k) for k in FIELDS if form.get(k)}
    return page.render(
        "evidence/list.html",
        status=422 if errors else 200,
        form=form,
        errors=errors,
        rows=found.rows,
        total=found.total,
        number=number,
        pages=max(1, -(-found.total // PAGE_SIZE)),
        page_link=lambda n: "/evidence?" + urlencode({**kept, "page": n}),
        bundle=bundle,
        **options(page, session, f.ward_code or ""),
    )


@router.get("/bundle")
def evidence_bundle(page: PageDep, session: SessionDep) -> Response:
    """The ward's signed bundle for the chosen days, to verify offline."""
    form, query, errors = read_query(page, session)
    f = query.filter
    if not f.ward_code and "ward" not in errors:
        errors["ward"] = page.t("evidence.bundle_needs_ward")
    for name, value in (("from", f.start), ("to", f.end)):
        if value is None and name not in errors:
            errors[name] = page.t("evidence.bundle_needs_dates")
    if errors or not f.ward_code or f.start is None or f.end is None:
        found = search_evidence(session, _actor(page), f, PAGE_SIZE, 0)
        return page.render(
            "evidence/list.html",
            status=422,
            form=form,
            errors=errors,
            rows=found.rows,
            total=found.total,
            number=1,
            pages=1,
            page_link=lambda n: "/evidence",
            bundle=None,
            **options(page, session, f.ward_code or ""),
        )
    now = page.now
    bundle = access.bundle_for(
        session, _actor(page), f.ward_code, f.start, f.end, page.runtime.key, now
    )
    name = _UNSAFE.sub("_", f"wardcast-evidence-{f.ward_code}-{bundle['period']['label']}.json")
    return Response(
        dump_bundle(bundle),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
