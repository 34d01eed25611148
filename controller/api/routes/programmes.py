"""A ward's programme and queue; a device's compiled plan."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Response, status

from controller.api.bounds import AreaCodePath, IdPath
from controller.api.deps import (
    ActorDep,
    AdminDep,
    ClockDep,
    OfficerDep,
    PlansDep,
    ProgrammesDep,
    SessionDep,
    StaffDep,
)
from controller.api.schemas.programmes import (
    ConflictPublic,
    ProgrammeCheckPublic,
    ProgrammePublic,
    ProgrammeSavedPublic,
    ProgrammeUpdate,
    QueueEntryCreate,
    QueueEntryPublic,
)
from controller.domain.devices.access import visible_device
from controller.domain.programmes import access

router = APIRouter(prefix="/api/v1", tags=["programmes"])


@router.get("/wards/{ward}/programme")
def read_programme(ward: AreaCodePath, session: SessionDep, actor: ActorDep) -> ProgrammePublic:
    """The ward's programme as stored (exactly what was applied)."""
    version, document = access.programme_of(session, ward, actor)
    return ProgrammePublic(version=version, document=document)


@router.post("/wards/{ward}/programme/check")
def check_programme(
    ward: AreaCodePath,
    body: ProgrammeUpdate,
    session: SessionDep,
    clock: ClockDep,
    actor: StaffDep,
) -> ProgrammeCheckPublic:
    """Conflicts and the diff against the stored programme; nothing is stored."""
    result = access.check_for(session, ward, body.document, clock.now(), actor)
    return ProgrammeCheckPublic(
        conflicts=[ConflictPublic(**dataclasses.asdict(c)) for c in result.conflicts],
        diff=result.diff,
    )


@router.put("/wards/{ward}/programme")
def save_programme(
    ward: AreaCodePath, body: ProgrammeUpdate, programmes: ProgrammesDep, actor: AdminDep
) -> ProgrammeSavedPublic:
    """Save the programme if it has no conflict (all or nothing); plans follow at once."""
    version, changes = programmes.save(ward, body.document, actor)
    return ProgrammeSavedPublic(version=version, diff=changes)


@router.get("/wards/{ward}/queue")
def read_queue(ward: AreaCodePath, session: SessionDep, actor: StaffDep) -> list[QueueEntryPublic]:
    """Bulletins queued into the ward's sessions."""
    return [QueueEntryPublic.model_validate(q) for q in access.queue_of(session, ward, actor)]


@router.post("/wards/{ward}/queue", status_code=status.HTTP_201_CREATED)
def add_to_queue(
    ward: AreaCodePath, body: QueueEntryCreate, programmes: ProgrammesDep, actor: OfficerDep
) -> QueueEntryPublic:
    """Queue an approved bulletin into a session; the ward's plans follow at once."""
    row = programmes.queue(
        ward, body.session_code, body.bulletin_id, body.first_date, body.last_date, actor
    )
    return QueueEntryPublic.model_validate(row)


@router.delete("/wards/{ward}/queue/{entry}", status_code=status.HTTP_204_NO_CONTENT)
def remove_from_queue(
    ward: AreaCodePath, entry: IdPath, programmes: ProgrammesDep, actor: OfficerDep
) -> Response:
    """Take a bulletin out of the queue; plans follow at once."""
    programmes.unqueue(ward, entry, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/devices/{device_id}/plan")
def read_plan(
    device_id: IdPath, session: SessionDep, plans: PlansDep, actor: StaffDep
) -> dict[str, Any]:
    """The plan the device should be running now (as the controller compiles it).

    Sent as the protocol's own JSON (the document agents receive), so it has no
    API schema of its own.
    """
    visible_device(session, device_id, actor, "reading the plan of")
    plan = plans.current(session, device_id)
    assert plan is not None
    return plan.model_dump(mode="json")
