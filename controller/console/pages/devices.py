"""Loudspeakers (cụm loa): the list of the reader's, and one device's page.

A device's page: its state now (``device_statuses``, as the dashboard shows it), its plan
(the items it holds from now on, compiled as the controller would publish them:
``PlanService.current``), its recent plays (signed evidence) and its security records
(commands it refused, events the controller refused). Only devices of the reader's wards
(``visible_device``: 403 otherwise); reading changes nothing, so evaluators may open it.
Enrolling and revoking stay on the administrators' page (``/admin/devices``).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console.deps import PageDep
from controller.console.page import Page
from controller.domain.devices.access import visible_device
from controller.domain.evidence import security
from controller.domain.evidence.search import EvidenceFilter, search_evidence
from controller.domain.overview.devices import DeviceStatus, device_statuses

router = APIRouter(prefix="/devices")

PLAN_ROWS = 50
RECENT_ROWS = 20


def statuses(page: Page, session: Session) -> list[DeviceStatus]:
    """The state now of every device in the reader's wards."""
    assert page.actor is not None
    settings = page.runtime.settings
    return device_statuses(
        session,
        page.actor,
        page.now,
        offline_after_s=settings.device_offline_after_s,
        clock_warn_s=settings.clock_offset_warn_s,
    )


@router.get("")
def device_list(page: PageDep, session: SessionDep) -> Response:
    """The reader's loudspeakers, each linking to its page."""
    return page.render("devices/list.html", devices=statuses(page, session))


@router.get("/{device_id}")
def device_page(device_id: str, page: PageDep, session: SessionDep) -> Response:
    """State, plan, recent plays and security records of one device."""
    assert page.actor is not None
    device = visible_device(session, device_id, page.actor, "reading device")
    state = next(s for s in statuses(page, session) if s.device_id == device.id)
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
