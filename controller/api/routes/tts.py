"""Text to speech: which voices, accents and speeds this controller offers."""

from __future__ import annotations

from fastapi import APIRouter

from controller.api.deps import SettingsDep, StaffDep
from controller.api.schemas.tts import TtsCataloguePublic, VoicePublic
from controller.domain.content.voices import ESPEAK, catalogue

router = APIRouter(prefix="/api/v1/tts", tags=["bulletins"])


@router.get("/voices")
def voices(settings: SettingsDep, actor: StaffDep) -> TtsCataloguePublic:
    """The voices a text bulletin may be spoken with (never calls the network)."""
    offered = catalogue(settings)
    fallback = f"{ESPEAK}:{settings.espeak_voice}"
    ids = [v.id for v in offered]
    return TtsCataloguePublic(
        default_voice=ids[0] if ids else None,
        fallback_voice=fallback if fallback in ids else None,
        voices=[VoicePublic.model_validate(v) for v in offered],
    )
