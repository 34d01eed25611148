"""The voices a bulletin may be spoken with (giọng đọc): engines, accents and speeds.

Two engines: gTTS (Google's online voice, one Vietnamese voice at one speed — gTTS's
"slow" is for language learners, not for loudspeakers) and espeak-ng (offline, with
Northern, Central and Southern Vietnamese voices and a speed in words per minute).
The catalogue lists what *this* controller can use: espeak-ng's voices as the
installed binary reports them, gTTS only when it is switched on and installed. It
never calls the network: whether Google answers is learnt when a bulletin is spoken,
and an unreachable gTTS falls back to espeak-ng (``controller.audio.tts``), which the
bulletin then records as its engine.

A voice id is ``<engine>:<voice>``: ``gtts:vi``, ``espeak-ng:vi-vn-x-south``.
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from controller.domain.errors import InvalidInput
from controller.settings import Settings

log = logging.getLogger(__name__)

GTTS = "gtts"
ESPEAK = "espeak-ng"
SPEED_MIN_WPM, SPEED_MAX_WPM, SPEED_DEFAULT_WPM = 80, 450, 150
# espeak-ng's own names for the Vietnamese accents, in the words officers use.
_ACCENTS = {
    "vi": "Miền Bắc (Northern)",
    "vi-vn-x-central": "Miền Trung (Central)",
    "vi-vn-x-south": "Miền Nam (Southern)",
}


@dataclass(frozen=True, slots=True)
class Voice:
    """One voice an officer may choose."""

    id: str
    engine: str
    language: str
    accent: str
    online: bool  # needs the internet; falls back to espeak-ng without it
    speed_min_wpm: int | None = None  # None: the engine offers one speed
    speed_max_wpm: int | None = None
    speed_default_wpm: int | None = None


@dataclass(frozen=True, slots=True)
class SpeakOptions:
    """How to call the engines for one bulletin."""

    gtts_enabled: bool
    espeak_voice: str
    espeak_speed_wpm: int


@lru_cache(maxsize=8)
def espeak_voices(language: str, binary: str = ESPEAK) -> tuple[str, ...]:
    """The installed espeak-ng voices for ``language`` (empty when espeak-ng is missing)."""
    try:
        listing = subprocess.run(
            [binary, f"--voices={language}"], capture_output=True, text=True, timeout=5, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not list espeak-ng voices: %s", exc)
        return ()
    names = []
    for line in listing.splitlines()[1:]:
        parts = line.split()
        # Pty Language Age/Gender VoiceName File [Other languages]
        if len(parts) >= 2 and parts[1].lower().startswith(language.lower()):
            names.append(parts[1].lower())
    return tuple(dict.fromkeys(names))


def gtts_installed() -> bool:
    """Whether the gTTS package is importable (it is optional on a small controller)."""
    return importlib.util.find_spec("gtts") is not None


def catalogue(settings: Settings) -> list[Voice]:
    """Every voice this controller can speak a bulletin with, the default first."""
    language = settings.tts_language
    voices: list[Voice] = []
    if settings.gtts_enabled and gtts_installed():
        voices.append(Voice(f"{GTTS}:{language}", GTTS, language, "Google", online=True))
    for name in espeak_voices(language):
        voices.append(
            Voice(
                f"{ESPEAK}:{name}",
                ESPEAK,
                language,
                _ACCENTS.get(name, name),
                online=False,
                speed_min_wpm=SPEED_MIN_WPM,
                speed_max_wpm=SPEED_MAX_WPM,
                speed_default_wpm=SPEED_DEFAULT_WPM,
            )
        )
    return voices


def speak_options(settings: Settings, voice_id: str | None, speed_wpm: int | None) -> SpeakOptions:
    """The engine settings for a chosen voice and speed; None, None: the controller's defaults.

    Refuses (422) a voice this controller does not offer, and a speed for an engine
    that has only one, naming what is offered.
    """
    if speed_wpm is not None and not SPEED_MIN_WPM <= speed_wpm <= SPEED_MAX_WPM:
        raise InvalidInput(
            f"the speed must be between {SPEED_MIN_WPM} and {SPEED_MAX_WPM} words a minute",
            code="bulletin.speed_out_of_range",
            params={"low": SPEED_MIN_WPM, "high": SPEED_MAX_WPM},
            field="speed",
        )
    default = SpeakOptions(
        settings.gtts_enabled, settings.espeak_voice, speed_wpm or SPEED_DEFAULT_WPM
    )
    if voice_id is None:
        return default
    offered = {v.id: v for v in catalogue(settings)}
    voice = offered.get(voice_id)
    if voice is None:
        choices = ", ".join(offered) or "none (install espeak-ng)"
        raise InvalidInput(
            f"no voice {voice_id!r} on this controller; choose one of: {choices}",
            code="bulletin.unknown_voice",
            params={"voice": voice_id},
            field="voice",
        )
    if voice.engine == GTTS:
        if speed_wpm is not None:
            raise InvalidInput(
                "gTTS speaks at one speed; choose an espeak-ng voice to set the speed",
                code="bulletin.voice_has_one_speed",
                field="speed",
            )
        return SpeakOptions(True, settings.espeak_voice, SPEED_DEFAULT_WPM)
    return SpeakOptions(False, voice_id.split(":", 1)[1], speed_wpm or SPEED_DEFAULT_WPM)
