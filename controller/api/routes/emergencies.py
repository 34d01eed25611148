"""Emergencies: CAP-shaped alert, update and cancel, played now everywhere targeted."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from controller.api.deps import ApproverDep, EmergenciesDep, SessionDep, StaffDep
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
    body: EmergencyCreate, emergencies: EmergenciesDep, actor: ApproverDep, response: Response
) -> EmergencyPublic:
    """Alert: speak and play now, interrupting anything. Update/Cancel: stop what it names."""
    message = EmergencyMessage(**body.model_dump())
    record, new = emergencies.receive(message, actor)
    if not new:
        response.status_code = status.HTTP_200_OK
    return EmergencyPublic.model_validate(record)


@router.get("")
def read_all(session: SessionDep, actor: StaffDep) -> list[EmergencyPublic]:
    """Emergency messages that reached the actor's wards, most recent first."""
    return [EmergencyPublic.model_validate(e) for e in visible_emergencies(session, actor)]
