"""Broadcasts: send a bulletin to places or devices at a time or now, follow, cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from controller.api.bounds import IdPath, OffsetQuery
from controller.api.deps import BroadcastsDep, ClockDep, OfficerDep, SessionDep, StaffDep
from controller.api.schemas.broadcasts import (
    BroadcastCancellationCreate,
    BroadcastCreate,
    BroadcastPublic,
    BroadcastSummaryPublic,
    BroadcastTargetPublic,
    BroadcastTargetSpecPublic,
)
from controller.db.models import Broadcast
from controller.domain.actors import Actor
from controller.domain.broadcasts import access
from controller.domain.broadcasts import service as domain
from controller.domain.broadcasts.progress import progress_of, tally_of, target_wards
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.broadcasts.targets import TargetSpec
from controller.domain.devices.access import wards_of
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Priority

router = APIRouter(prefix="/api/v1/broadcasts", tags=["broadcasts"])


def to_public(
    session: Session, broadcast: Broadcast, actor: Actor, clock: Clock
) -> BroadcastPublic:
    """A broadcast's status now, with each target's progress (targets in the actor's wards)."""
    progress = progress_of(session, broadcast, clock.now(), reader=actor)
    targets = [
        BroadcastTargetPublic(
            device_id=t.device_id,
            ward_code=t.ward_code,
            group_code=t.group_code,
            state=t.state.value,
            received_at=t.received_at,
            started_at=t.started_at,
            confirmed_at=t.confirmed_at,
            outcome=t.state.value if t.confirmed_at is not None else None,
            actual_start=t.actual_start,
            played_duration_s=t.played_duration_s,
            reason=t.reason,
        )
        for t in progress.targets
    ]
    spec = TargetSpec.from_record(broadcast.target_spec, list(progress.device_ids))
    visible = {t.device_id for t in progress.targets}
    fields = _summary_fields(broadcast, spec, visible.__contains__)
    return BroadcastPublic(
        **fields,
        status=progress.status.value,
        state_counts=progress.counts(),
        target_count=len(progress.targets),
        targets=targets,
    )


def to_summary(
    session: Session, broadcast: Broadcast, actor: Actor, clock: Clock
) -> BroadcastSummaryPublic:
    """A broadcast's status now and its counts, for a list (no device by device)."""
    tally = tally_of(session, broadcast, clock.now(), reader=actor)
    if broadcast.target_spec:
        spec = TargetSpec.from_record(broadcast.target_spec, [])
        named = wards_of(session, spec.device_ids) if actor.wards is not None else {}
    else:  # made before specs were kept: it named its devices, the targets
        named = target_wards(session, broadcast.id)
        spec = TargetSpec.from_record(None, list(named))
    fields = _summary_fields(broadcast, spec, lambda d: actor.sees_ward(named.get(d)))
    return BroadcastSummaryPublic(
        **fields,
        status=tally.status.value,
        state_counts=tally.counts,
        target_count=tally.target_count,
    )


def _summary_fields(
    broadcast: Broadcast, spec: TargetSpec, shown: Callable[[str], bool]
) -> dict[str, Any]:
    record = spec.as_record()
    # Device ids outside the reader's wards are another ward's business.
    record["device_ids"] = [d for d in record["device_ids"] if shown(d)]
    return {
        "id": broadcast.id,
        "bulletin_id": broadcast.bulletin_id,
        "bulletin_title": broadcast.bulletin.title,
        "trigger": broadcast.trigger,
        "priority": Priority(broadcast.priority),
        "planned_start": broadcast.planned_start,
        "planned_duration_s": broadcast.bulletin.media.duration_s,
        "immediate": broadcast.immediate,
        "expires_at": broadcast.expires_at,
        "created_at": broadcast.created_at,
        "created_by": broadcast.created_by,
        "target": BroadcastTargetSpecPublic(**record),
        "cancelled_at": broadcast.cancelled_at,
        "cancelled_by": broadcast.cancelled_by,
        "cancel_reason": broadcast.cancel_reason,
    }


@router.post("", status_code=status.HTTP_201_CREATED)
def create(
    body: BroadcastCreate,
    service: BroadcastsDep,
    session: SessionDep,
    clock: ClockDep,
    actor: OfficerDep,
) -> BroadcastPublic:
    """Schedule a broadcast to devices, a ward, or its zones or groups (now if no `start_at`)."""
    target = TargetSpec(body.ward_code, body.zones, body.group_codes, body.device_ids)
    request = BroadcastRequest(
        body.bulletin_id, body.device_ids, body.start_at, body.priority, actor.name, target
    )
    # The service commits (and publishes) in its own transaction; the request's
    # session, not used until now, then reads the broadcast as committed.
    broadcast = service.schedule(request, actor)
    return to_public(session, domain.get_broadcast(session, broadcast.id), actor, clock)


@router.get("")
def list_all(
    session: SessionDep,
    clock: ClockDep,
    actor: StaffDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: OffsetQuery = 0,
) -> list[BroadcastSummaryPublic]:
    """Broadcasts reaching the actor's wards, latest planned first: each one's status and
    counts; its devices one by one with `GET /api/v1/broadcasts/{id}`."""
    rows = access.visible_broadcasts(session, actor, limit, offset)
    return [to_summary(session, b, actor, clock) for b in rows]


@router.get("/{broadcast_id}")
def read(
    broadcast_id: IdPath, session: SessionDep, clock: ClockDep, actor: StaffDep
) -> BroadcastPublic:
    """One broadcast: its status now and each device's progress and confirmation."""
    broadcast = access.visible_broadcast(session, broadcast_id, actor)
    return to_public(session, broadcast, actor, clock)


@router.post("/{broadcast_id}/cancel")
def cancel(
    broadcast_id: IdPath,
    service: BroadcastsDep,
    session: SessionDep,
    clock: ClockDep,
    actor: StaffDep,
    body: BroadcastCancellationCreate | None = None,
) -> BroadcastPublic:
    """Cancel a scheduled or playing broadcast: devices drop it or stop it; plays stay."""
    service.cancel(broadcast_id, actor, body.reason if body is not None else "")
    return to_public(session, domain.get_broadcast(session, broadcast_id), actor, clock)
