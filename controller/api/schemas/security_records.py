"""Security record schemas: refusals reported by devices and made by the controller."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SecurityRecordPublic(BaseModel):
    """One refusal: what a device's agent refused and reported, or what the controller refused.

    Never evidence. ``signed`` and ``sig`` are the device's own signed document (its
    report, or the refused event) verbatim, checkable against the device's public key.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    received_at: datetime = Field(description="When the controller stored it.")
    device_id: str
    origin: str = Field(
        description="device: its agent refused a message and reported it; controller: "
        "the controller refused what the device sent (an event for an unplanned item)."
    )
    reason: str = Field(
        description="A short code: not_addressed, replayed, expired, issued_in_future, "
        "retained, flood, bad_signature… (device); unplanned_item, other_broadcast "
        "(controller)."
    )
    detail: str
    occurred_at: datetime = Field(description="When it happened, by the device's clock.")
    topic: str | None = Field(description="Where the refused message arrived (device).")
    command_id: str | None = Field(description="The refused command, if one.")
    item_id: str | None = Field(description="The item it would have played (or claimed).")
    broadcast_id: str | None = Field(description="The broadcast a refused event claimed.")
    report_id: str | None = Field(description="The device's report id (origin device).")
    event_id: str | None = Field(description="The refused event's id (origin controller).")
    seq: int | None = Field(description="The refused event's place in the device's chain.")
    signed: str = Field(description="The exact document the device signed.")
    sig: str = Field(description="Base64 Ed25519 signature of `signed` by the device.")
