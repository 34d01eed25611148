"""Bulletin schemas: a bulletin written as text, its audio, and its workflow steps."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wardcast_protocol.messages import Priority, SourceLevel


class BulletinCreate(BaseModel):
    """A bulletin written as text, to be spoken by TTS (Vietnamese by default)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(
        min_length=1,
        max_length=300,
        description="What officers see in lists.",
        examples=["Thông báo cắt nước"],
    )
    text: str = Field(
        min_length=1,
        max_length=20000,
        description="What the loudspeakers say. The configured limit may be lower.",
        examples=["Ủy ban nhân dân phường thông báo: ngày mai cắt nước từ 8 giờ đến 11 giờ."],
    )
    priority: Priority = Field(
        default=Priority.NORMAL, description="normal, priority or emergency (mức ưu tiên)."
    )
    source_level: SourceLevel = Field(
        default=SourceLevel.COMMUNE, description="Where the content comes from (cấp nguồn tin)."
    )
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

    sha256: str = Field(description="sha256 of the file; it names the file.")
    size_bytes: int = Field(description="Size of the prepared file.")
    duration_s: float = Field(description="Length when played, seconds.")
    content_type: str = Field(description="MIME type, e.g. audio/mpeg.")
    url: str = Field(default="", description="Where agents download it.")


class BulletinPublic(BaseModel):
    """A bulletin as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    origin: str = Field(description="'text' (spoken by TTS) or 'upload'.")
    text: str | None = Field(description="The text spoken; none for an upload.")
    original_filename: str | None = Field(description="The uploaded file's name.")
    tts_engine: str | None = Field(description="'gtts' or 'espeak-ng' (offline fallback).")
    chime: bool = Field(description="Chime before and after.")
    priority: Priority
    source_level: SourceLevel
    created_at: datetime
    created_by: str = Field(description="Who wrote or uploaded it.")
    status: str = Field(description="draft, submitted, approved, rejected or archived.")
    category: str
    ward_code: str | None = Field(description="Owning ward.")
    valid_from: datetime | None = Field(description="Not aired before.")
    valid_until: datetime | None = Field(description="Not aired from then.")
    rejection_reason: str | None = Field(description="Why the leader last rejected it.")
    media: MediaPublic


class TransitionCreate(BaseModel):
    """A workflow step asked for; a rejection needs a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500, description="Why (for a rejection).")


class TransitionPublic(BaseModel):
    """One recorded workflow step."""

    model_config = ConfigDict(from_attributes=True)

    from_status: str = Field(description="Status before the step ('' at creation).")
    to_status: str = Field(description="Status after the step.")
    actor: str = Field(description="Who took the step.")
    at: datetime
    reason: str | None = Field(description="Why, when given.")
