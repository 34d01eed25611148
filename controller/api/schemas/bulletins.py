"""Bulletin schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

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
    media: MediaPublic
