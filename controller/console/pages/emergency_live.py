"""An emergency's live delivery: per device, received → playing → confirmed (or failed).

``/emergency/{id}`` shows the progress and the Update and Cancel buttons. The progress
part updates itself without reloading: ``/emergency/{id}/events`` is a server-sent event
stream (cookie session, like every page) that sends the part again when it changed;
where EventSource is missing or broken, htmx polls ``/emergency/{id}/progress`` (the
same part). Without any script the page still has its Reload link.

The progress is the domain's: ``progress_of`` of the emergency's broadcast, narrowed to
the devices of the reader's wards, as ``GET /api/v1/broadcasts/{id}`` reads it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console import live
from controller.console.deps import FormDep, StaffPageDep
from controller.console.page import Page
from controller.console.pages.emergency import SenderPageDep
from controller.db.models import Broadcast, Emergency
from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.broadcasts.progress import BroadcastProgress, BroadcastStatus, progress_of
from controller.domain.devices.access import wards_of
from controller.domain.emergencies.service import EmergencyMessage
from controller.domain.errors import DomainError, NotFound

router = APIRouter(prefix="/emergency")

# The stream's pace; tests replace ``sleep`` with a no-op and move the fake clock.
RULES = live.RULES
sleep: live.Sleep = asyncio.sleep

OVER = frozenset({"cancelled", "superseded"})
FINAL = frozenset({BroadcastStatus.DONE, BroadcastStatus.CANCELLED})


@dataclass(frozen=True)
class EmergencyView:
    """An emergency as the reader may see it, with its delivery now."""

    emergency: Emergency
    visible: frozenset[str]
    progress: BroadcastProgress | None
    ward: str | None  # the ward of its first visible device (an update's review shows it)

    @property
    def final(self) -> bool:
        """Nothing more will change: stopped, replaced, or every device confirmed."""
        if self.emergency.state in OVER:
            return True
        return self.progress is None or self.progress.status in FINAL

    @property
    def active(self) -> bool:
        """It may still be updated or cancelled."""
        return self.emergency.state not in OVER and self.emergency.msg_type != "Cancel"


def read_view(session: Session, actor: Actor, emergency_id: str, now: datetime) -> EmergencyView:
    """The emergency if it reached the actor's wards (NotFound, Forbidden), and its progress."""
    emergency = session.get(Emergency, emergency_id)
    if emergency is None:
        raise NotFound(f"no emergency {emergency_id!r}")
    wards = wards_of(session, emergency.device_ids)
    visible = frozenset(d for d in emergency.device_ids if actor.sees_ward(wards.get(d)))
    if not visible and actor.wards is not None:
        raise Forbidden(f"emergency {emergency.identifier} reached none of {actor.name}'s wards")
    broadcast = session.get(Broadcast, emergency.broadcast_id) if emergency.broadcast_id else None
    progress = progress_of(session, broadcast, now, visible) if broadcast is not None else None
    ward = next((wards.get(d) for d in sorted(visible)), None)
    return EmergencyView(emergency, visible, progress, ward)


def _context(page: Page, view: EmergencyView) -> dict[str, Any]:
    assert page.actor is not None
    return {
        "view": view,
        "em": view.emergency,
        "progress": view.progress,
        "may_send": page.actor.has(Role.APPROVER),
    }


def fragment(page: Page, view: EmergencyView) -> str:
    """The progress part alone, as HTML."""
    template = page.env.get_template("emergency/_progress.html")
    return template.render(page.context(_context(page, view)))


@router.get("/{emergency_id}")
def emergency_page(emergency_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """Progress, Update and Cancel."""
    assert page.actor is not None
    view = read_view(session, page.actor, emergency_id, page.now)
    return page.render("emergency/progress.html", **_context(page, view))


@router.get("/{emergency_id}/progress")
def emergency_progress(emergency_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """The progress part (htmx polls it where server-sent events do not work)."""
    assert page.actor is not None
    view = read_view(session, page.actor, emergency_id, page.now)
    return page.render("emergency/_progress.html", **_context(page, view))


@router.get("/{emergency_id}/events")
def emergency_events(emergency_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """Server-sent events: the progress part whenever it changed, then ``end``."""
    actor = page.actor
    assert actor is not None
    read_view(session, actor, emergency_id, page.now)  # refused here, before streaming

    def read() -> tuple[str, bool]:
        with page.runtime.db.session() as own:
            view = read_view(own, actor, emergency_id, page.now)
            return fragment(page, view), view.final

    return live.event_stream(read, RULES, lambda s: sleep(s))


@router.get("/{emergency_id}/cancel")
def cancel_confirm(emergency_id: str, page: SenderPageDep, session: SessionDep) -> Response:
    """Ask once more before every loudspeaker stops."""
    assert page.actor is not None
    view = read_view(session, page.actor, emergency_id, page.now)
    return page.render("emergency/cancel.html", **_context(page, view))


@router.post("/{emergency_id}/cancel")
def cancel_submit(
    emergency_id: str, page: SenderPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Send the CAP Cancel: every device stops it; what played stays evidence."""
    assert page.actor is not None
    view = read_view(session, page.actor, emergency_id, page.now)
    em, now = view.emergency, page.now
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
            errors={"form": page.t("emergency.refused", reason=exc.message)},
            **_context(page, view),
        )
    return page.redirect(f"/emergency/{em.id}", done="done.emergency_cancelled")
