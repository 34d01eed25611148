"""Emergency schemas: a CAP-shaped message in, and what the controller did with it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wardcast_protocol.messages import SourceLevel


class EmergencyCreate(BaseModel):
    """An emergency message (fields after OASIS CAP 1.2) and where it should sound."""

    model_config = ConfigDict(extra="forbid")

    identifier: str = Field(min_length=1, max_length=200, description="Unique per sender.")
    sender: str = Field(
        min_length=1,
        max_length=200,
        description="Who issued it.",
        examples=["ubnd.hangbac@hanoi.gov.vn"],
    )
    sent: AwareDatetime = Field(description="When the sender issued it.")
    msg_type: Literal["Alert", "Update", "Cancel"] = Field(
        default="Alert", description="Alert plays; Update and Cancel stop what they reference."
    )
    status: Literal["Actual", "Exercise", "Test"] = Field(
        default="Actual", description="Test is recorded only; Exercise plays as a drill."
    )
    references: list[str] = Field(default=[], description="Identifiers this updates/cancels.")
    expires: AwareDatetime | None = Field(default=None, description="Not played from then.")
    event: str = Field(default="", max_length=200, description="The hazard.", examples=["Lũ lụt"])
    urgency: str = Field(default="Immediate", max_length=32, description="CAP urgency.")
    severity: str = Field(default="Severe", max_length=32, description="CAP severity.")
    headline: str = Field(default="", max_length=300, description="A short title.")
    description: str = Field(default="", max_length=5000, description="The text spoken.")
    source_level: SourceLevel = Field(
        default=SourceLevel.COMMUNE, description="Where it comes from (cấp nguồn tin)."
    )
    ward_code: str | None = Field(default=None, description="Omit for every device.")
    zones: list[str] = Field(default=[], description="Zones of the ward; omit for all.")
    device_ids: list[str] = Field(default=[], description="Explicit devices (overrides).")


class EmergencyPublic(BaseModel):
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
    broadcast_id: str | None = Field(description="The broadcast playing it, if any.")
    bulletin_id: str | None = Field(description="The bulletin spoken from it, if any.")
    device_ids: list[str] = Field(description="Where it was sent.")
    created_by: str = Field(description="Who submitted it.")
