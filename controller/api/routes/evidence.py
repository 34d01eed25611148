"""Evidence: confirmed plays by device and period; refused messages for review."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from controller.api.bounds import IdFilter, Instant, OffsetQuery
from controller.api.deps import ActorDep, AdminDep, SessionDep
from controller.api.schemas.evidence import (
    EvidencePublic,
    GapPublic,
    RejectedMessagePublic,
    RejectionCounterPublic,
)
from controller.db.models import PlaybackEvidence
from controller.domain.evidence import access, rejections

router = APIRouter(prefix="/api/v1", tags=["evidence"])


def to_public(row: PlaybackEvidence) -> EvidencePublic:
    """A row with its start offset computed."""
    public = EvidencePublic.model_validate(row)
    if row.actual_start is not None:
        offset = round((row.actual_start - row.planned_start).total_seconds(), 3)
        public = public.model_copy(update={"start_offset_s": offset})
    return public


@router.get("/evidence")
def read_evidence(
    session: SessionDep,
    actor: ActorDep,
    device_id: IdFilter = None,
    broadcast_id: IdFilter = None,
    start: Annotated[Instant | None, Query(alias="from")] = None,
    end: Annotated[Instant | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: OffsetQuery = 0,
) -> list[EvidencePublic]:
    """Confirmed plays in the actor's wards whose planned start is in [from, to), oldest first."""
    begin: datetime | None = start
    rows = access.visible_evidence(
        session, actor, device_id, begin, end, broadcast_id, limit, offset
    )
    return [to_public(r) for r in rows]


@router.get("/evidence/gaps")
def read_gaps(session: SessionDep, actor: ActorDep, device_id: IdFilter = None) -> list[GapPublic]:
    """Open gaps in the event chains of the actor's devices (asked for until they arrive)."""
    return [GapPublic.model_validate(g) for g in access.visible_gaps(session, actor, device_id)]


@router.get("/rejected-messages")
def read_rejected(
    session: SessionDep, actor: AdminDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[RejectedMessagePublic]:
    """Messages refused at the door (bad signature, malformed…), newest first (admin)."""
    rows = access.rejections_for(session, actor, limit)
    return [RejectedMessagePublic.model_validate(r) for r in rows]


@router.get("/rejected-messages/counters")
def read_rejection_counters(
    session: SessionDep,
    actor: AdminDep,
    since: Annotated[Instant | None, Query(description="From this hour on.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RejectionCounterPublic]:
    """Refused messages per source and hour: received, kept, and dropped (only counted)."""
    return [
        RejectionCounterPublic(
            hour=c.hour,
            source=c.source,
            received=c.received,
            stored=c.stored,
            dropped=c.received - c.stored,
        )
        for c in rejections.list_counters(session, since, limit)
    ]
