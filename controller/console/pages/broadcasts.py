"""Broadcasts (lượt phát): the list, and a status page that moves without reloading.

The status is the domain's (``progress_of``): scheduled → sent → playing → done (or
partial, failed, cancelled), with each device's state and confirmation, narrowed to the
devices of the reader's wards, as ``GET /api/v1/broadcasts/{id}`` reads it. The status
part is refreshed by server-sent events (``/broadcasts/{id}/events``), or by htmx
polling ``/broadcasts/{id}/progress`` where those do not work.

Cancel goes through ``BroadcastService.cancel`` (an emergency's broadcast is cancelled
from its emergency page; the domain says so with a 409, shown inline).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from controller.api.deps import SessionDep
from controller.console import live
from controller.console.deps import FormDep, StaffPageDep
from controller.console.i18n import refusal_text
from controller.console.page import Page
from controller.db.models import Broadcast
from controller.domain.actors import Actor
from controller.domain.broadcasts import access
from controller.domain.broadcasts.progress import BroadcastProgress, progress_of, tally_of
from controller.domain.broadcasts.service import CANCELLABLE
from controller.domain.broadcasts.states import BroadcastStatus
from controller.domain.broadcasts.targets import TargetSpec
from controller.domain.errors import DomainError

router = APIRouter(prefix="/broadcasts")

PAGE_SIZE = 50
RULES = live.RULES
sleep: live.Sleep = asyncio.sleep  # tests replace it with a no-op
FINAL = frozenset({BroadcastStatus.DONE, BroadcastStatus.CANCELLED})


def read(
    session: Session, actor: Actor, broadcast_id: str, page: Page
) -> tuple[Broadcast, BroadcastProgress]:
    """The broadcast if it reaches the actor's wards, and its progress now."""
    broadcast = access.visible_broadcast(session, broadcast_id, actor)
    return broadcast, progress_of(session, broadcast, page.now, reader=actor)


def _context(broadcast: Broadcast, progress: BroadcastProgress) -> dict[str, Any]:
    spec = TargetSpec.from_record(broadcast.target_spec, list(progress.device_ids))
    return {
        "b": broadcast,
        "progress": progress,
        "spec": spec,
        "cancellable": progress.status in CANCELLABLE and broadcast.trigger != "emergency",
    }


@router.get("")
def broadcast_list(page: StaffPageDep, session: SessionDep) -> Response:
    """Broadcasts reaching the actor's wards, latest planned first, with their status now."""
    assert page.actor is not None
    try:
        number = max(1, int(page.request.query_params.get("page", "1")))
    except ValueError:
        number = 1
    rows = access.visible_broadcasts(session, page.actor, PAGE_SIZE + 1, (number - 1) * PAGE_SIZE)
    shown = []
    for b in rows[:PAGE_SIZE]:
        shown.append((b, tally_of(session, b, page.now, reader=page.actor)))
    return page.render(
        "broadcasts/list.html", rows=shown, number=number, more=len(rows) > PAGE_SIZE
    )


@router.get("/{broadcast_id}")
def broadcast_page(broadcast_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """One broadcast: where it stands, each device's state, and Cancel."""
    assert page.actor is not None
    return page.render(
        "broadcasts/status.html", **_context(*read(session, page.actor, broadcast_id, page))
    )


@router.get("/{broadcast_id}/progress")
def broadcast_progress(broadcast_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """The status part alone (htmx polls it)."""
    assert page.actor is not None
    return page.render(
        "broadcasts/_status.html", **_context(*read(session, page.actor, broadcast_id, page))
    )


@router.get("/{broadcast_id}/events")
def broadcast_events(broadcast_id: str, page: StaffPageDep, session: SessionDep) -> Response:
    """Server-sent events: the status part whenever it changed, then ``end``."""
    actor = page.actor
    assert actor is not None
    read(session, actor, broadcast_id, page)  # refused here, before streaming

    def snapshot() -> live.Snapshot:
        with page.runtime.db.session() as own:
            broadcast, progress = read(own, actor, broadcast_id, page)
            template = page.env.get_template("broadcasts/_status.html")
            html = template.render(page.context(_context(broadcast, progress)))
            targets = tuple((t.device_id, t.state) for t in progress.targets)
            key = (progress.status, targets, page.runtime.broker_connected())
            return live.Snapshot(key, html, progress.status in FINAL)

    return live.event_stream(snapshot, RULES, lambda s: sleep(s))


@router.post("/{broadcast_id}/cancel")
def broadcast_cancel(
    broadcast_id: str, page: StaffPageDep, form: FormDep, session: SessionDep
) -> Response:
    """Cancel: devices drop it, or stop it if it sounds; what played stays evidence."""
    assert page.actor is not None
    reason = " ".join(form.get("reason").split())
    errors: dict[str, str] = {}
    if len(reason) > 200:
        errors["reason"] = page.t("broadcasts.reason_long", max=200)
    else:
        try:
            page.runtime.broadcasts.cancel(broadcast_id, page.actor, reason)
        except DomainError as exc:
            if exc.status >= 500 or exc.status in (401, 403, 404):
                raise
            errors["form"] = refusal_text(page.t, exc, "broadcasts.refused")
    if not errors:
        return page.redirect(f"/broadcasts/{broadcast_id}", done="done.broadcast_cancelled")
    context = _context(*read(session, page.actor, broadcast_id, page))
    return page.render("broadcasts/status.html", status=422, form=form, errors=errors, **context)
