"""Broadcast schemas: send a bulletin to devices, and what each device confirmed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from controller.api.bounds import Identifier, Instant
from wardcast_protocol.messages import Priority


class BroadcastCreate(BaseModel):
    """Broadcast a bulletin to devices, at a time or now."""

    model_config = ConfigDict(extra="forbid")

    bulletin_id: Identifier = Field(description="An approved bulletin.")
    device_ids: list[Identifier] = Field(
        min_length=1, max_length=10000, description="Where it plays."
    )
    start_at: Instant | None = Field(
        default=None,
        description="When to play, with its zone (e.g. 2026-11-23T05:30:00+07:00); "
        "omit to play now.",
    )
    priority: Priority | None = Field(
        default=None, description="Override the bulletin's priority; emergency preempts."
    )


class BroadcastTargetPublic(BaseModel):
    """One device of a broadcast, and what it confirmed."""

    device_id: str
    outcome: str | None = Field(description="None until the device confirms.")
    actual_start: datetime | None = Field(default=None, description="When it really started.")
    played_duration_s: float | None = Field(default=None, description="Seconds played.")
    reason: str | None = Field(default=None, description="Why it did not complete, if so.")


class BroadcastPublic(BaseModel):
    """A broadcast as the API shows it, with each target's confirmation."""

    id: str
    bulletin_id: str
    bulletin_title: str
    trigger: str = Field(description="What caused it: manual, programme or emergency.")
    priority: Priority
    planned_start: datetime
    planned_duration_s: float = Field(description="The bulletin's audio length, seconds.")
    immediate: bool = Field(description="Played now rather than at a planned time.")
    expires_at: datetime | None = Field(description="An immediate command's expiry.")
    status: str = Field(description="scheduled, or sent for an immediate broadcast.")
    created_at: datetime
    targets: list[BroadcastTargetPublic]
