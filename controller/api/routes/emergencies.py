"""Emergencies: CAP-shaped alert, update and cancel, played now everywhere targeted."""

from __future__ import annotations

from uuid import uuid4

from fastapi import APIRouter, Response, status

from controller.api.deps import ApproverDep, ClockDep, EmergenciesDep, SessionDep, StaffDep
from controller.api.schemas.emergencies import EmergencyCreate, EmergencyPublic
from controller.domain.emergencies.access import visible_emergencies
from controller.domain.emergencies.service import EmergencyMessage

router = APIRouter(prefix="/api/v1/emergencies", tags=["emergencies"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EmergencyPublic, "description": "Received before: not replayed."}},
)
def receive(
    body: EmergencyCreate,
    emergencies: EmergenciesDep,
    actor: ApproverDep,
    clock: ClockDep,
    response: Response,
) -> EmergencyPublic:
    """Alert: speak and play now, interrupting anything. Update/Cancel: stop what it names."""
    given = body.model_dump()
    if body.msg_type == "Cancel":  # a bare Cancel: who and when are the request's own
        now = clock.now()
        given["sent"] = body.sent or now
        given["sender"] = body.sender or actor.name
        given["identifier"] = body.identifier or f"cancel-{now:%Y%m%dT%H%M%S}-{uuid4().hex[:8]}"
    message = EmergencyMessage(**given)
    record, new = emergencies.receive(message, actor)
    if not new:
        response.status_code = status.HTTP_200_OK
    return EmergencyPublic.model_validate(record)


@router.get("")
def read_all(session: SessionDep, actor: StaffDep) -> list[EmergencyPublic]:
    """Emergency messages that reached the actor's wards, most recent first."""
    return [EmergencyPublic.model_validate(e) for e in visible_emergencies(session, actor)]
