"""Broadcasts: send a bulletin to devices at a time or now, and follow confirmations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from controller.api.bounds import IdPath, OffsetQuery
from controller.api.deps import BroadcastsDep, OfficerDep, SessionDep, StaffDep
from controller.api.schemas.broadcasts import (
    BroadcastCreate,
    BroadcastPublic,
    BroadcastTargetPublic,
)
from controller.db.models import Broadcast
from controller.domain.actors import Actor
from controller.domain.broadcasts import access
from controller.domain.broadcasts import service as domain
from controller.domain.broadcasts.service import BroadcastRequest
from wardcast_protocol.messages import Priority

router = APIRouter(prefix="/api/v1/broadcasts", tags=["broadcasts"])


def to_public(session: Session, broadcast: Broadcast, actor: Actor) -> BroadcastPublic:
    """A broadcast with each target's confirmation so far (targets in the actor's wards)."""
    confirmed = domain.confirmations(session, broadcast.id)
    visible = access.visible_targets(session, broadcast, actor)
    targets = []
    for target in sorted(broadcast.targets, key=lambda t: t.device_id):
        if target.device_id not in visible:
            continue
        row = confirmed.get(target.device_id)
        targets.append(
            BroadcastTargetPublic(
                device_id=target.device_id,
                outcome=row.outcome if row else None,
                actual_start=row.actual_start if row else None,
                played_duration_s=row.played_duration_s if row else None,
                reason=row.reason if row else None,
            )
        )
    return BroadcastPublic(
        id=broadcast.id,
        bulletin_id=broadcast.bulletin_id,
        bulletin_title=broadcast.bulletin.title,
        trigger=broadcast.trigger,
        priority=Priority(broadcast.priority),
        planned_start=broadcast.planned_start,
        planned_duration_s=broadcast.bulletin.media.duration_s,
        immediate=broadcast.immediate,
        expires_at=broadcast.expires_at,
        status=broadcast.status,
        created_at=broadcast.created_at,
        targets=targets,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create(
    body: BroadcastCreate,
    service: BroadcastsDep,
    session: SessionDep,
    actor: OfficerDep,
) -> BroadcastPublic:
    """Schedule a broadcast (or play it now when `start_at` is omitted)."""
    request = BroadcastRequest(
        body.bulletin_id, body.device_ids, body.start_at, body.priority, actor.name
    )
    # The service commits (and publishes) in its own transaction; the request's
    # session, not used until now, then reads the broadcast as committed.
    broadcast = service.schedule(request, actor)
    return to_public(session, domain.get_broadcast(session, broadcast.id), actor)


@router.get("")
def list_all(
    session: SessionDep,
    actor: StaffDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: OffsetQuery = 0,
) -> list[BroadcastPublic]:
    """Broadcasts reaching the actor's wards, latest planned first."""
    rows = access.visible_broadcasts(session, actor, limit, offset)
    return [to_public(session, b, actor) for b in rows]


@router.get("/{broadcast_id}")
def read(broadcast_id: IdPath, session: SessionDep, actor: StaffDep) -> BroadcastPublic:
    """One broadcast with its confirmations."""
    return to_public(session, access.visible_broadcast(session, broadcast_id, actor), actor)
