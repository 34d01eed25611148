"""Loudspeakers (cụm loa): the list of the reader's, and one device's page.

The list is narrowed by ward, state and a piece of the id or name, a page at a time
(``device_filter``), with each state counted: a province's thousand loudspeakers in one
page hid the few that went silent. A filter the reader could not have chosen (another
ward, an unknown state) is said inline, with every device still listed.

A device's page: its state now (``device_statuses``, as the dashboard shows it), its plan
(the items it holds from now on, compiled as the controller would publish them:
``PlanService.current``), its recent plays (signed evidence) and its security records
(commands it refused, events the controller refused). Only devices of the reader's wards
(``visible_device``: 403 otherwise); reading changes nothing, so evaluators may open it.
Enrolling and revoking stay on the administrators' page (``/admin/devices``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import PageDep
from controller.console.page import FormValues, Page
from controller.domain.devices.access import visible_device
from controller.domain.evidence import security
from controller.domain.evidence.search import EvidenceFilter, search_evidence
from controller.domain.overview.device_filter import DeviceFilter, select_devices
from controller.domain.overview.devices import STATES, DeviceStatus, device_statuses
from controller.domain.places.access import visible_wards

router = APIRouter(prefix="/devices")

PLAN_ROWS = 50
RECENT_ROWS = 20
PAGE_SIZE = 100
FIELDS = ("ward", "state", "q")


def statuses(page: Page, session: Session, only: str | None = None) -> list[DeviceStatus]:
    """The state now of every device in the reader's wards (``only``: of that one)."""
    assert page.actor is not None
    settings = page.runtime.settings
    return device_statuses(
        session,
        page.actor,
        page.now,
        offline_after_s=settings.device_offline_after_s,
        clock_warn_s=settings.clock_offset_warn_s,
        only=only,
    )


def read_filter(
    page: Page, wards: dict[str, str]
) -> tuple[FormValues, DeviceFilter, dict[str, str]]:
    """The filters as typed, as understood, and what is wrong with them (inline)."""
    query = page.request.query_params
    form = FormValues({name: [query.get(name, "")] for name in FIELDS})
    errors: dict[str, str] = {}
    ward = form.get("ward") or None
    if ward is not None and ward not in wards:
        errors["ward"] = page.t("evidence.ward_missing")
        ward = None
    state = form.get("state") or None
    if state is not None and state not in STATES:
        errors["state"] = page.t("evidence.choose")
        state = None
    return form, DeviceFilter(ward, state, form.get("q")[:100]), errors


def device_selection(page: Page, session: Session, path: str) -> tuple[dict[str, Any], int]:
    """The filter form, one page of the devices it keeps and the pager, as a template's
    context (the list at ``path`` links its pages there), and the page's status (422
    when a filter was refused)."""
    assert page.actor is not None
    wards = {w.code: f"{w.name} ({w.code})" for w in visible_wards(session, page.actor)}
    form, wanted, errors = read_filter(page, wards)
    everyone = statuses(page, session)
    try:
        number = max(1, int(page.request.query_params.get("page", "1")))
    except ValueError:
        number = 1
    found = select_devices(everyone, wanted, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    pages = max(1, -(-found.matched // PAGE_SIZE))
    if number > pages:  # past the end (the list shrank, or a typed number): the last page
        number = pages
        found = select_devices(everyone, wanted, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    kept = {k: form.get(k) for k in FIELDS if form.get(k) and k not in errors}
    any_ = ("", page.t("evidence.any"))
    context = {
        "form": form,
        "errors": errors,
        "devices": found.rows,
        "found": found,
        "wanted": wanted,
        "number": number,
        "pages": pages,
        "list_path": path,
        "link": lambda **change: f"{path}?" + urlencode({**kept, **change}),
        "page_link": lambda n: f"{path}?" + urlencode({**kept, "page": n}),
        "wards": [any_, *wards.items()],
        "states": [
            any_,
            *(
                (s, page.t("devpage.state_count", state=page.t(f"devices.{s}"), n=n))
                for s, n in found.by_state.items()
            ),
        ],
    }
    return context, 422 if errors else 200


@router.get("")
def device_list(page: PageDep, session: SessionDep) -> Response:
    """The reader's loudspeakers, filtered and a page at a time, each linking to its page."""
    context, status = device_selection(page, session, "/devices")
    return page.render("devices/list.html", status=status, **context)


@router.get("/{device_id}")
def device_page(device_id: str, page: PageDep, session: SessionDep) -> Response:
    """State, plan, recent plays and security records of one device."""
    assert page.actor is not None
    device = visible_device(session, device_id, page.actor, "reading device")
    (state,) = statuses(page, session, only=device.id)
    now = page.now
    plan = page.runtime.plans.current(session, device.id, now)
    # Still to play, or playing now: an item is listed until its planned end.
    upcoming = sorted(
        (
            item
            for item in (plan.items if plan is not None else ())
            if item.planned_start + timedelta(seconds=item.media.duration_s) >= now
        ),
        key=lambda item: item.planned_start,
    )[:PLAN_ROWS]
    plays = search_evidence(session, page.actor, EvidenceFilter(device_id=device.id), RECENT_ROWS)
    records = security.list_security_records(session, device.id, limit=RECENT_ROWS)
    return page.render(
        "devices/device.html",
        d=state,
        plan_version=plan.version if plan is not None else None,
        upcoming=upcoming,
        plays=plays.rows,
        plays_total=plays.total,
        records=records,
    )
