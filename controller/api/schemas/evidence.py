"""Evidence schemas: confirmed plays, gaps in devices' chains, refused messages."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EvidencePublic(BaseModel):
    """One confirmed play, planned values beside actual ones, with its signed original."""

    model_config = ConfigDict(from_attributes=True)

    device_id: str
    ward_code: str | None = Field(default=None, description="Where the device stood then.")
    group_code: str | None = Field(default=None, description="Its group then.")
    event_id: str
    seq: int = Field(description="The device's event sequence number.")
    item_id: str = Field(description="The plan item played.")
    session_key: str | None = Field(default=None, description="The programme session, if any.")
    broadcast_id: str
    bulletin_id: str | None
    trigger: str = Field(description="manual, programme or emergency.")
    priority: str
    source_level: str
    planned_start: datetime
    planned_duration_s: float
    actual_start: datetime | None = Field(description="None when it never started.")
    played_duration_s: float
    start_offset_s: float | None = Field(
        default=None, description="Actual minus planned start, seconds."
    )
    outcome: str = Field(description="completed, partial, preempted, failed or skipped.")
    reason: str | None = Field(description="Why it did not complete, if so.")
    relayed_s: float | None = Field(default=None, description="Relays: seconds relayed.")
    relay_gap_s: float | None = Field(default=None, description="Relays: seconds lost.")
    fallback_s: float | None = Field(default=None, description="Relays: fallback played.")
    plan_version: int | None = Field(description="The plan the device ran.")
    amplifier_on: bool | None = Field(description="The amplifier as the device saw it.")
    volume: int | None = Field(description="The volume it played at.")
    recorded_at: datetime = Field(description="When the device wrote the event.")
    received_at: datetime = Field(description="When the controller stored it.")
    digest: str = Field(description="The event's hash in the device's chain.")
    prev_hash: str = Field(description="The previous event's digest.")
    signed: str = Field(description="The exact document the device signed.")
    sig: str = Field(description="Base64 Ed25519 signature of `signed` by the device.")


class GapPublic(BaseModel):
    """Sequence numbers of a device not (yet) received."""

    model_config = ConfigDict(from_attributes=True)

    device_id: str
    from_seq: int = Field(description="First missing sequence number.")
    to_seq: int = Field(description="Last missing sequence number.")
    detected_at: datetime
    requested_at: datetime | None = Field(description="When the device was last asked to resend.")


class RejectedMessagePublic(BaseModel):
    """A message refused at the door."""

    model_config = ConfigDict(from_attributes=True)

    received_at: datetime
    topic: str
    device_id: str | None = Field(description="The device the topic names, if any.")
    reason: str = Field(description="A short code, e.g. bad_signature, malformed.")
    detail: str
    payload_sha256: str
    payload_size: int


class RejectionCounterPublic(BaseModel):
    """Refused messages of one source in one hour: how many came, were kept, were dropped."""

    model_config = ConfigDict(from_attributes=True)

    hour: datetime = Field(description="Start of the hour (UTC).")
    source: str = Field(
        description="The device the topic named, else 'topic:<topic>'; '*' gathers the "
        "sources past the hour's limit."
    )
    received: int = Field(description="Refused messages received.")
    stored: int = Field(description="Kept as rejected messages (the first few).")
    dropped: int = Field(description="Counted only: over the limits, or a repeat.")
