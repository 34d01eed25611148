"""Bulletin schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wardcast_protocol.messages import Priority, SourceLevel


class BulletinCreate(BaseModel):
    """A bulletin written as text, to be spoken by TTS (Vietnamese by default)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300, examples=["Thông báo cắt nước"])
    text: str = Field(
        min_length=1,
        max_length=20000,
        description="What the loudspeakers say. The configured limit may be lower.",
        examples=["Ủy ban nhân dân phường thông báo: ngày mai cắt nước từ 8 giờ đến 11 giờ."],
    )
    priority: Priority = Priority.NORMAL
    source_level: SourceLevel = SourceLevel.COMMUNE
    chime: bool | None = Field(default=None, description="Chime before and after; default on.")
    category: str = Field(
        default="general",
        min_length=1,
        max_length=64,
        description="e.g. general, health, security, disaster, election.",
    )
    ward_code: str | None = Field(default=None, max_length=16, description="Owning ward.")
    valid_from: AwareDatetime | None = Field(default=None, description="Not aired before.")
    valid_until: AwareDatetime | None = Field(default=None, description="Not aired from then.")


class MediaPublic(BaseModel):
    """The prepared audio of a bulletin."""

    model_config = ConfigDict(from_attributes=True)

    sha256: str
    size_bytes: int
    duration_s: float
    content_type: str
    url: str = ""


class BulletinPublic(BaseModel):
    """A bulletin as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    origin: str = Field(description="'text' (spoken by TTS) or 'upload'.")
    text: str | None
    original_filename: str | None
    tts_engine: str | None = Field(description="'gtts' or 'espeak-ng' (offline fallback).")
    chime: bool
    priority: Priority
    source_level: SourceLevel
    created_at: datetime
    created_by: str
    status: str = Field(description="draft, submitted, approved, rejected or archived.")
    category: str
    ward_code: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    rejection_reason: str | None
    media: MediaPublic


class TransitionRequest(BaseModel):
    """A workflow step; a rejection needs a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class TransitionPublic(BaseModel):
    """One recorded workflow step."""

    model_config = ConfigDict(from_attributes=True)

    from_status: str
    to_status: str
    actor: str
    at: datetime
    reason: str | None
