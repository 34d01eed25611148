"""Device schemas: creation (with an enrolment code), and a device's last known state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from controller.api.bounds import one_line
from wardcast_protocol.topics import DEVICE_ID_PATTERN


class DeviceCreate(BaseModel):
    """Register an edge device (cụm loa) with the public half of its signing key."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(
        pattern=f"^{DEVICE_ID_PATTERN}$",
        description="Stable id, also used in MQTT topics: letters, digits, '.', '_', '-'.",
        examples=["to-dan-pho-3"],
    )
    name: Annotated[str, one_line(200)] = Field(
        default="", description="Human name, e.g. 'Tổ dân phố 3'."
    )
    public_key: str | None = Field(
        default=None,
        min_length=40,
        max_length=64,
        description="Base64 of the raw 32-byte Ed25519 public key, if known already; "
        "usually left out: the device generates its key and presents it at enrolment.",
    )


class DeviceEnrolmentPublic(BaseModel):
    """A device as created, with its one-time enrolment code (shown this once only)."""

    device_id: str
    name: str
    registered: bool = Field(description="Its public key is known (registered) already.")
    enrolment_code: str | None = Field(
        description="One-time code for `wardcast-agent enrol`; null when none was made now "
        "(the device existed: POST /api/v1/devices/{id}/enrolment-code makes a new one).",
        examples=["K7QX-M2PD-9RTW-HN4C"],
    )
    enrolment_line: str | None = Field(
        description="The same as one printable line (QR): "
        "wardcast-enrol:<controller-url>|<device-id>|<code>."
    )
    enrolment_expires_at: datetime | None = Field(description="The code works until then.")


class DevicePublic(BaseModel):
    """A device as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    ward_code: str | None = Field(default=None, description="The ward it serves.")
    group_code: str | None = Field(default=None, description="The residential group it serves.")
    public_key: str = Field(description="Base64 Ed25519 key its messages are verified with.")
    registered_at: datetime
    online: bool = Field(
        description="Its last availability said online and it was heard from recently "
        "(within the controller's device_offline_after_s)."
    )
    last_seen_at: datetime | None = Field(description="Its last message of any kind.")
    plan_version: int = Field(description="Version of the plan the controller last published.")
    reported_plan_version: int | None = Field(description="Version the agent says it runs.")
    clock_offset_s: float | None = Field(description="Device clock minus controller clock.")
    pending_events: int | None = Field(description="Events the agent holds unacknowledged.")
    clock_suspect: bool = Field(
        default=False, description="Its clock is further off than the configured threshold."
    )
    enrolled_at: datetime | None = Field(
        default=None, description="When it last enrolled (got its broker login)."
    )
    revoked_at: datetime | None = Field(
        default=None, description="When it was revoked; a revoked device cannot connect."
    )
