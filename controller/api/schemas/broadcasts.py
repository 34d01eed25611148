"""Broadcast schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wardcast_protocol.messages import Priority


class BroadcastCreate(BaseModel):
    """Broadcast a bulletin to devices, at a time or now."""

    model_config = ConfigDict(extra="forbid")

    bulletin_id: str = Field(min_length=1, max_length=64)
    device_ids: list[str] = Field(min_length=1, max_length=10000)
    start_at: AwareDatetime | None = Field(
        default=None,
        description="When to play, with its zone (e.g. 2026-11-23T05:30:00+07:00); "
        "omit to play now.",
    )
    priority: Priority | None = Field(
        default=None, description="Override the bulletin's priority; emergency preempts."
    )


class TargetStatus(BaseModel):
    """One device of a broadcast, and what it confirmed."""

    device_id: str
    outcome: str | None = Field(description="None until the device confirms.")
    actual_start: datetime | None = None
    played_duration_s: float | None = None
    reason: str | None = None


class BroadcastPublic(BaseModel):
    """A broadcast as the API shows it, with each target's confirmation."""

    id: str
    bulletin_id: str
    bulletin_title: str
    trigger: str
    priority: Priority
    planned_start: datetime
    planned_duration_s: float
    immediate: bool
    expires_at: datetime | None
    status: str
    created_at: datetime
    targets: list[TargetStatus]
