"""Text-to-speech schemas: the voices this controller can speak a bulletin with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class VoicePublic(BaseModel):
    """One voice an officer may choose for a text bulletin."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="What `tts_voice` takes, e.g. espeak-ng:vi-vn-x-south.")
    engine: str = Field(description="gtts (online) or espeak-ng (offline).")
    language: str
    accent: str = Field(description="The accent or the voice's origin, e.g. Miền Nam.")
    online: bool = Field(description="Needs the internet; without it espeak-ng speaks instead.")
    speed_min_wpm: int | None = Field(description="Slowest speed; None: one speed only.")
    speed_max_wpm: int | None = Field(description="Fastest speed.")
    speed_default_wpm: int | None = Field(description="Speed when none is chosen.")


class TtsCataloguePublic(BaseModel):
    """The voices on offer, and which one a bulletin gets when none is chosen."""

    default_voice: str | None = Field(description="The voice tried first when none is chosen.")
    fallback_voice: str | None = Field(
        description="The offline voice used when the online one cannot answer."
    )
    voices: list[VoicePublic]
