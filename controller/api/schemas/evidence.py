"""Evidence schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EvidencePublic(BaseModel):
    """One confirmed play, planned values beside actual ones, with its signed original."""

    model_config = ConfigDict(from_attributes=True)

    device_id: str
    ward_code: str | None = None
    group_code: str | None = None
    event_id: str
    seq: int
    item_id: str
    session_key: str | None = None
    broadcast_id: str
    bulletin_id: str | None
    trigger: str
    priority: str
    source_level: str
    planned_start: datetime
    planned_duration_s: float
    actual_start: datetime | None
    played_duration_s: float
    start_offset_s: float | None = Field(
        default=None, description="Actual minus planned start, seconds."
    )
    outcome: str
    reason: str | None
    relayed_s: float | None = Field(default=None, description="Relays: seconds relayed.")
    relay_gap_s: float | None = Field(default=None, description="Relays: seconds lost.")
    fallback_s: float | None = Field(default=None, description="Relays: fallback played.")
    plan_version: int | None
    amplifier_on: bool | None
    volume: int | None
    recorded_at: datetime
    received_at: datetime
    digest: str
    prev_hash: str
    signed: str = Field(description="The exact document the device signed.")
    sig: str = Field(description="Base64 Ed25519 signature of `signed` by the device.")


class GapPublic(BaseModel):
    """Sequence numbers of a device not (yet) received."""

    model_config = ConfigDict(from_attributes=True)

    device_id: str
    from_seq: int
    to_seq: int
    detected_at: datetime
    requested_at: datetime | None


class RejectedPublic(BaseModel):
    """A message refused at the door."""

    model_config = ConfigDict(from_attributes=True)

    received_at: datetime
    topic: str
    device_id: str | None
    reason: str
    detail: str
    payload_sha256: str
    payload_size: int
