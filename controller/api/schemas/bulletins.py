"""Bulletin schemas: a bulletin written as text, its audio, and its workflow steps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from controller.api.bounds import AreaCode, Code, Instant, SpokenText, free_text, one_line
from wardcast_protocol.messages import Priority, SourceLevel


class BulletinCreate(BaseModel):
    """A bulletin written as text, to be spoken by TTS (Vietnamese by default)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, one_line(300, 1)] = Field(
        description="What officers see in lists.",
        examples=["Thông báo cắt nước"],
    )
    text: SpokenText = Field(
        min_length=1,
        max_length=20000,
        description="What the loudspeakers say. The configured limit may be lower. "
        "Control characters are removed, and line breaks and tabs read as spaces.",
        examples=["Ủy ban nhân dân phường thông báo: ngày mai cắt nước từ 8 giờ đến 11 giờ."],
    )
    priority: Priority = Field(
        default=Priority.NORMAL, description="normal, priority or emergency (mức ưu tiên)."
    )
    source_level: SourceLevel = Field(
        default=SourceLevel.COMMUNE, description="Where the content comes from (cấp nguồn tin)."
    )
    chime: bool | None = Field(default=None, description="Chime before and after; default on.")
    category: Annotated[str, one_line(64, 1)] = Field(
        default="general",
        description="e.g. general, health, security, disaster, election.",
    )
    ward_code: AreaCode | None = Field(default=None, description="Owning ward.")
    valid_from: Instant | None = Field(default=None, description="Not aired before.")
    valid_until: Instant | None = Field(default=None, description="Not aired from then.")
    tts_voice: Annotated[str, one_line(64, 1)] | None = Field(
        default=None,
        description="A voice id from GET /api/v1/tts/voices; omit for the controller's default.",
        examples=["espeak-ng:vi-vn-x-south"],
    )
    tts_speed_wpm: int | None = Field(
        default=None, ge=80, le=450, description="Words a minute (espeak-ng voices only)."
    )
    code: Code | None = Field(
        default=None,
        description="A stable name, unique in the ward, that programmes and the queue may "
        "use instead of the id.",
        examples=["vov1-du-phong"],
    )


class BulletinUpdate(BaseModel):
    """Edit a draft or rejected bulletin: only the fields given change (null clears)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, one_line(300, 1)] | None = Field(default=None, description="New title.")
    text: SpokenText | None = Field(
        default=None, min_length=1, max_length=20000, description="New text (spoken again)."
    )
    tts_voice: Annotated[str, one_line(64, 1)] | None = Field(
        default=None, description="A voice id from GET /api/v1/tts/voices; null: the default."
    )
    tts_speed_wpm: int | None = Field(
        default=None, ge=80, le=450, description="Words a minute (espeak-ng); null: default."
    )
    chime: bool | None = Field(default=None, description="Chime before and after.")
    priority: Priority | None = None
    source_level: SourceLevel | None = None
    category: Annotated[str, one_line(64, 1)] | None = None
    valid_from: Instant | None = Field(default=None, description="Not aired before; null clears.")
    valid_until: Instant | None = Field(
        default=None, description="Not aired from then; null clears."
    )


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
    code: str | None = Field(default=None, description="The stable name people gave it.")
    title: str
    origin: str = Field(description="'text' (spoken by TTS) or 'upload'.")
    text: str | None = Field(description="The text spoken; none for an upload.")
    original_filename: str | None = Field(description="The uploaded file's name.")
    tts_engine: str | None = Field(description="'gtts' or 'espeak-ng' (offline fallback).")
    tts_voice: str | None = Field(default=None, description="The voice asked for, if any.")
    tts_speed_wpm: int | None = Field(default=None, description="The speed asked for, if any.")
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

    reason: Annotated[str, free_text(500)] | None = Field(
        default=None, description="Why (for a rejection)."
    )


class TransitionPublic(BaseModel):
    """One recorded workflow step."""

    model_config = ConfigDict(from_attributes=True)

    from_status: str = Field(description="Status before the step ('' at creation).")
    to_status: str = Field(description="Status after the step.")
    actor: str = Field(description="Who took the step.")
    at: datetime
    reason: str | None = Field(description="Why, when given.")
