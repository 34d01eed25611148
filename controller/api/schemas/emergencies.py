"""Emergency schemas: a CAP-shaped message in, and what the controller did with it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from controller.api.bounds import AreaCode, Code, Identifier, Instant, SpokenText, one_line
from wardcast_protocol.messages import SourceLevel


class EmergencyCreate(BaseModel):
    """An emergency message (fields after OASIS CAP 1.2) and where it should sound."""

    model_config = ConfigDict(extra="forbid")

    identifier: Annotated[str, one_line(200, 1)] = Field(description="Unique per sender.")
    sender: Annotated[str, one_line(200, 1)] = Field(
        description="Who issued it.",
        examples=["ubnd.hangbac@hanoi.gov.vn"],
    )
    sent: Instant = Field(description="When the sender issued it.")
    msg_type: Literal["Alert", "Update", "Cancel"] = Field(
        default="Alert", description="Alert plays; Update and Cancel stop what they reference."
    )
    status: Literal["Actual", "Exercise", "Test"] = Field(
        default="Actual", description="Test is recorded only; Exercise plays as a drill."
    )
    references: list[Annotated[str, one_line(200, 1)]] = Field(
        default=[], max_length=100, description="Identifiers this updates/cancels."
    )
    expires: Instant | None = Field(default=None, description="Not played from then.")
    event: Annotated[str, one_line(200)] = Field(
        default="", description="The hazard.", examples=["Lũ lụt"]
    )
    urgency: Annotated[str, one_line(32)] = Field(default="Immediate", description="CAP urgency.")
    severity: Annotated[str, one_line(32)] = Field(default="Severe", description="CAP severity.")
    headline: Annotated[str, one_line(300)] = Field(default="", description="A short title.")
    description: SpokenText = Field(
        default="",
        max_length=5000,
        description="The text spoken; control characters are removed, line breaks read as spaces.",
    )
    source_level: SourceLevel = Field(
        default=SourceLevel.COMMUNE, description="Where it comes from (cấp nguồn tin)."
    )
    ward_code: AreaCode | None = Field(default=None, description="Omit for every device.")
    zones: list[Code] = Field(
        default=[], max_length=1000, description="Zones of the ward; omit for all."
    )
    device_ids: list[Identifier] = Field(
        default=[], max_length=10000, description="Explicit devices (overrides)."
    )


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
