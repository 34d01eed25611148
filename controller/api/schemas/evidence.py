"""Evidence schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EvidencePublic(BaseModel):
    """One confirmed play, planned values beside actual ones, with its signed original."""

    model_config = ConfigDict(from_attributes=True)

    device_id: str
    event_id: str
    seq: int
    item_id: str
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
    plan_version: int | None
    amplifier_on: bool | None
    volume: int | None
    recorded_at: datetime
    received_at: datetime
    digest: str
    prev_hash: str
    signed: str = Field(description="The exact document the device signed.")
    sig: str = Field(description="Base64 Ed25519 signature of `signed` by the device.")


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
