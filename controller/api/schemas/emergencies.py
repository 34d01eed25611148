"""Emergency schemas: a CAP-shaped message in, and what the controller did with it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from controller.api.bounds import AreaCode, Code, Identifier, Instant, SpokenText, one_line
from wardcast_protocol.messages import SourceLevel


class EmergencyCreate(BaseModel):
    """An emergency message (fields after OASIS CAP 1.2) and where it should sound."""

    model_config = ConfigDict(extra="forbid")

    # A Cancel may come bare (msg_type and references): the controller fills these in.
    identifier: Annotated[str, one_line(200, 1)] | None = Field(
        default=None, description="Unique per sender. A Cancel may omit it (one is made)."
    )
    sender: Annotated[str, one_line(200, 1)] | None = Field(
        default=None,
        description="Who issued it. A Cancel may omit it (the signed-in account).",
        examples=["ubnd.hangbac@hanoi.gov.vn"],
    )
    sent: Instant | None = Field(
        default=None, description="When the sender issued it. A Cancel may omit it (now)."
    )
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

    @model_validator(mode="after")
    def _alerts_say_who_and_when(self) -> EmergencyCreate:
        if self.msg_type != "Cancel":
            missing = [f for f in ("identifier", "sender", "sent") if getattr(self, f) is None]
            if missing:
                raise ValueError(
                    f"an {self.msg_type} needs {', '.join(missing)} (only a Cancel may omit them)"
                )
        return self


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


class EmergencyDevicePublic(BaseModel):
    """One device's delivery of an emergency."""

    device_id: str
    ward_code: str | None
    group_code: str | None
    stage: str = Field(
        description="sent, received, playing, confirmed, stopped, failed or unconfirmed."
    )
    state: str = Field(description="The finer state, as broadcasts show it.")
    started_at: datetime | None = Field(default=None, description="When it reported it sounding.")
    actual_start: datetime | None = Field(description="When it really started.")
    played_duration_s: float | None = Field(description="Seconds played.")
    confirmed_at: datetime | None = Field(description="When its confirmation was stored.")
    reason: str | None = Field(description="Why it did not complete, if so.")


class EmergencyProgressPublic(BaseModel):
    """An emergency's live delivery, device by device (the reader's wards only)."""

    emergency_id: str
    identifier: str
    state: str = Field(description="The emergency's: playing, recorded, superseded, cancelled.")
    broadcast_id: str | None
    status: str = Field(description="Its broadcast's status now (or the emergency's state).")
    over: bool = Field(description="Nothing more will change: stopped, or every device done.")
    at: datetime = Field(description="When this snapshot was read.")
    stages: dict[str, int] = Field(description="How many devices are at each stage.")
    devices: list[EmergencyDevicePublic]
