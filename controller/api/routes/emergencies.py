"""Emergencies: CAP-shaped alert, update and cancel, played now everywhere targeted."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from controller.api.deps import ActorDep, RuntimeDep, SessionDep
from controller.domain.emergencies.service import EmergencyMessage, list_emergencies
from wardcast_protocol.messages import SourceLevel

router = APIRouter(prefix="/api/v1/emergencies", tags=["emergencies"])


class EmergencyIn(BaseModel):
    """An emergency message (fields after OASIS CAP 1.2) and where it should sound."""

    model_config = ConfigDict(extra="forbid")

    identifier: str = Field(min_length=1, max_length=200, description="Unique per sender.")
    sender: str = Field(min_length=1, max_length=200, examples=["ubnd.hangbac@hanoi.gov.vn"])
    sent: AwareDatetime
    msg_type: Literal["Alert", "Update", "Cancel"] = "Alert"
    status: Literal["Actual", "Exercise", "Test"] = "Actual"
    references: list[str] = Field(default=[], description="Identifiers this updates/cancels.")
    expires: AwareDatetime | None = None
    event: str = Field(default="", max_length=200, examples=["Lũ lụt"])
    urgency: str = Field(default="Immediate", max_length=32)
    severity: str = Field(default="Severe", max_length=32)
    headline: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=5000, description="The text spoken.")
    source_level: SourceLevel = SourceLevel.COMMUNE
    ward_code: str | None = Field(default=None, description="Omit for every device.")
    zones: list[str] = Field(default=[], description="Zones of the ward; omit for all.")
    device_ids: list[str] = Field(default=[], description="Explicit devices (overrides).")


class EmergencyOut(BaseModel):
    """What the controller did with a message."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    identifier: str
    sender: str
    sent: datetime
    msg_type: str
    status: str
    references: list[str]
    expires: datetime | None
    headline: str
    state: str = Field(description="playing, recorded (Test or Cancel), superseded, cancelled.")
    broadcast_id: str | None
    bulletin_id: str | None
    device_ids: list[str]
    created_by: str


@router.post("", status_code=status.HTTP_201_CREATED)
def receive(
    body: EmergencyIn, runtime: RuntimeDep, actor: ActorDep, response: Response
) -> EmergencyOut:
    """Alert: speak and play now, interrupting anything. Update/Cancel: stop what it names."""
    message = EmergencyMessage(**body.model_dump())
    record, new = runtime.emergencies.receive(message, actor)
    if not new:
        response.status_code = status.HTTP_200_OK
    return EmergencyOut.model_validate(record)


@router.get("")
def read_all(session: SessionDep) -> list[EmergencyOut]:
    """Emergency messages, most recent first."""
    return [EmergencyOut.model_validate(e) for e in list_emergencies(session)]
