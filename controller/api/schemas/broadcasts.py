"""Broadcast schemas: send a bulletin to devices, and what each device confirmed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from controller.api.bounds import AreaCode, Code, Identifier, Instant, one_line
from wardcast_protocol.messages import Priority


class BroadcastCreate(BaseModel):
    """Broadcast a bulletin to devices, at a time or now."""

    model_config = ConfigDict(extra="forbid")

    bulletin_id: Identifier = Field(description="An approved bulletin.")
    device_ids: list[Identifier] = Field(
        default=[],
        max_length=10000,
        description="Devices it plays on (with, or instead of, a ward).",
    )
    ward_code: AreaCode | None = Field(
        default=None,
        description="A ward: all of its devices, or those of `zones` and `group_codes`.",
    )
    zones: list[Code] = Field(
        default=[], max_length=1000, description="Zones of the ward (khu vực)."
    )
    group_codes: list[Code] = Field(
        default=[],
        max_length=1000,
        description="Residential groups of the ward (tổ dân phố, thôn).",
    )
    start_at: Instant | None = Field(
        default=None,
        description="When to play, with its zone (e.g. 2026-11-23T05:30:00+07:00); "
        "omit to play now.",
    )
    priority: Priority | None = Field(
        default=None, description="Override the bulletin's priority; emergency preempts."
    )


class BroadcastCancellationCreate(BaseModel):
    """Cancel a broadcast; the reason is optional (an empty body cancels)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, one_line(200)] = Field(
        default="", description="Why; devices stopped mid-play record it with the play."
    )


class BroadcastTargetSpecPublic(BaseModel):
    """Where a broadcast was aimed, as the officer gave it."""

    ward_code: str | None = None
    zones: list[str] = []
    group_codes: list[str] = []
    device_ids: list[str] = []


class BroadcastTargetPublic(BaseModel):
    """One device of a broadcast: where it stands, and what it confirmed."""

    device_id: str
    ward_code: str | None = Field(default=None, description="Where the device is placed.")
    group_code: str | None = Field(default=None, description="Its residential group.")
    state: str = Field(
        default="scheduled",
        description="scheduled, sent, received (holds it in its plan), playing (due now), "
        "awaiting (past its end, unconfirmed), completed, partial, preempted, failed, "
        "skipped, cancelled, or expired (a 'now' whose order expired before it started).",
    )
    received_at: datetime | None = Field(
        default=None, description="When it reported holding it in its plan."
    )
    started_at: datetime | None = Field(
        default=None, description="When it reported it sounding (before its confirmation)."
    )
    confirmed_at: datetime | None = Field(
        default=None, description="When its confirmation was stored."
    )
    outcome: str | None = Field(description="None until the device confirms.")
    actual_start: datetime | None = Field(default=None, description="When it really started.")
    played_duration_s: float | None = Field(default=None, description="Seconds played.")
    reason: str | None = Field(default=None, description="Why it did not complete, if so.")


class BroadcastSummaryPublic(BaseModel):
    """A broadcast in a list: its status and counts, not each device (see BroadcastPublic).

    A ward's broadcast reaches a thousand loudspeakers; a list of a hundred of them with
    every device would be tens of megabytes. Each one's devices: ``GET .../{id}``.
    """

    id: str
    bulletin_id: str
    bulletin_title: str
    trigger: str = Field(description="What caused it: manual, programme or emergency.")
    priority: Priority
    planned_start: datetime
    planned_duration_s: float = Field(description="The bulletin's audio length, seconds.")
    immediate: bool = Field(description="Played now rather than at a planned time.")
    expires_at: datetime | None = Field(description="An immediate command's expiry.")
    status: str = Field(
        description="scheduled, sent (every device holds it, or a 'now' command went out), "
        "playing, done, partial, failed or cancelled — as of now."
    )
    state_counts: dict[str, int] = Field(
        default={}, description="How many of the listed devices are in each state."
    )
    created_at: datetime
    created_by: str = ""
    target: BroadcastTargetSpecPublic = Field(
        default_factory=BroadcastTargetSpecPublic, description="The target as given."
    )
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    target_count: int = Field(
        default=0, description="How many devices it reaches (of those the reader may see)."
    )


class BroadcastPublic(BroadcastSummaryPublic):
    """A broadcast as the API shows it, with each target's confirmation."""

    targets: list[BroadcastTargetPublic]
