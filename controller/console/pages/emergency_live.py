"""An emergency's live delivery: per device, sent → received → playing → confirmed (or failed).

``/emergency/{id}`` shows the progress and the Update and Cancel buttons. The progress
part updates itself without reloading: ``/emergency/{id}/events`` is a server-sent event
stream (cookie session, like every page) that sends the part again whenever delivery
changed; where EventSource is missing or broken, htmx polls ``/emergency/{id}/progress``
(the same part). Without any script the page still reloads itself (``<noscript>``).

The progress is the domain's, as the API's ``/api/v1/emergencies/{id}/progress`` and
``/events`` read it: ``emergency_progress`` through ``EmergencyWatch.read`` (the reader's
wards, a short session per read), and "changed" is its ``fingerprint``. The pacing is
:mod:`controller.console.live`'s (a snapshot when changed, heartbeats, ``end`` when the
emergency is over, two minutes at most): its waits are awaited, so an open page holds
no worker thread while it waits (the domain's ``watch`` sleeps in one). ``sleep`` is this
module's, so a test runs a whole stream without waiting.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console import live
from controller.console.deps import FormDep, StaffPageDep
from controller.console.i18n import refusal_text
from controller.console.page import Page
from controller.console.pages.emergency import SenderPageDep
from controller.db.models import Emergency
from controller.domain.actors import Role
from controller.domain.emergencies.progress import (
    EmergencyProgress,
    EmergencyWatch,
    emergency_progress,
    stage_of,
)
from controller.domain.emergencies.service import EmergencyMessage
from controller.domain.errors import DomainError

router = APIRouter(prefix="/emergency")

# A page's stream lives two minutes, then the EventSource reconnects (``retry``).
RULES = live.RULES
sleep: live.Sleep = asyncio.sleep  # tests replace it with one that moves a fake clock


def read(page: Page, session: Session, emergency_id: str) -> tuple[Emergency, EmergencyProgress]:
    """The emergency's delivery now (NotFound, Forbidden outside the reader's wards)."""
    assert page.actor is not None
    progress = emergency_progress(session, emergency_id, page.actor, page.now)
    emergency = session.get(Emergency, progress.emergency_id)
    assert emergency is not None  # emergency_progress has just read it
    return emergency, progress


def _context(page: Page, em: Emergency, progress: EmergencyProgress) -> dict[str, Any]:
    assert page.actor is not None
    return {
        "em": em,
        "progress": progress,
        "stage_of": stage_of,
        "active": em.state not in ("cancelled", "superseded") and em.msg_type != "Cancel",
        "may_send": page.actor.has(Role.APPROVER),
        "ward": next((d.ward_code for d in progress.devices if d.ward_code), None),
    }


def fragment(page: Page, progress: EmergencyProgress) -> str:
    """The progress part alone, as HTML."""
    template = page.env.get_template("emergency/_progress.html")
    return template.render(page.context({"progress": progress, "stage_of": stage_of}))


@router.get("/{emergency_id}")
def emergency_page(emergency_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """Progress, Update and Cancel."""
    return page.render(
        "emergency/progress.html", **_context(page, *read(page, session, emergency_id))
    )


@router.get("/{emergency_id}/progress")
def emergency_progress_part(emergency_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """The progress part (htmx polls it where server-sent events do not work)."""
    _em, progress = read(page, session, emergency_id)
    return page.render("emergency/_progress.html", progress=progress, stage_of=stage_of)


@router.get("/{emergency_id}/events")
def emergency_events(emergency_id: str, page: StaffPageDep) -> Response:
    """Server-sent events: the progress part whenever delivery changed, then ``end``."""
    actor = page.actor
    assert actor is not None
    watcher = EmergencyWatch(page.runtime.db, page.runtime.clock)
    pending = [watcher.read(emergency_id, actor)]  # refused here, before streaming

    def snapshot() -> live.Snapshot:
        found = pending.pop() if pending else watcher.read(emergency_id, actor)
        key = (found.fingerprint(), page.runtime.broker_connected())
        return live.Snapshot(key, fragment(page, found), found.over)

    return live.event_stream(snapshot, RULES, lambda s: sleep(s))


@router.get("/{emergency_id}/cancel")
def cancel_confirm(emergency_id: str, page: SenderPageDep, session: SessionDep) -> Response:
    """Ask once more before every loudspeaker stops."""
    return page.render(
        "emergency/cancel.html", **_context(page, *read(page, session, emergency_id))
    )


@router.post("/{emergency_id}/cancel")
def cancel_submit(
    emergency_id: str, page: SenderPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Send the CAP Cancel: every device stops it; what played stays evidence."""
    assert page.actor is not None
    em, progress = read(page, session, emergency_id)
    now = page.now
    cancel = EmergencyMessage(
        identifier=f"console-cancel-{now:%Y%m%dT%H%M%S}-{uuid4().hex[:8]}",
        sender=page.actor.name,
        sent=now,
        msg_type="Cancel",
        references=(em.identifier,),
        device_ids=tuple(em.device_ids),
    )
    try:
        page.runtime.emergencies.receive(cancel, page.actor)
    except DomainError as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        return page.render(
            "emergency/cancel.html",
            status=422,
            errors={"form": refusal_text(page.t, exc, "emergency.refused")},
            **_context(page, em, progress),
        )
    return page.redirect(f"/emergency/{em.id}", done="done.emergency_cancelled")
