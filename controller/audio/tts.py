"""Vietnamese text-to-speech: gTTS when the network allows, the offline espeak-ng voice otherwise.

A ward's bulletin must be spoken even when the controller has no internet (floods cut links
first), so gTTS is only ever a first choice: any failure, hang or empty answer falls back to
espeak-ng with a logged warning. The spoken file is written atomically; a failed attempt never
leaves a file, empty or partial, in ``out_dir``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from controller.audio.engines import (
    EngineFailed,
    GttsFactory,
    default_gtts_factory,
    espeak_wav,
    gtts_mp3,
)

log = logging.getLogger(__name__)

# espeak-ng accepts 80–450 words per minute; outside that it clamps silently, which would hide
# a configuration mistake.
_ESPEAK_WPM_RANGE = range(80, 451)


class SpeechFailed(Exception):
    """Neither engine could speak the text; the message can be shown to the officer."""


@dataclass(frozen=True, slots=True)
class Speech:
    """A spoken text: a non-empty audio file and the engine that made it."""

    path: Path
    engine: str  # "gtts" (MP3) or "espeak-ng" (WAV)


def speak(
    text: str,
    out_dir: Path,
    *,
    lang: str = "vi",
    gtts_enabled: bool = True,
    gtts_timeout_s: float = 8.0,
    espeak_voice: str = "vi",
    espeak_speed_wpm: int = 150,
    gtts_factory: GttsFactory | None = None,
    espeak_binary: str = "espeak-ng",
) -> Speech:
    """Speak ``text`` into a new audio file in ``out_dir``.

    Tries gTTS first (when enabled) with ``gtts_timeout_s`` per request, then espeak-ng.
    ``gtts_factory`` replaces ``gtts.gTTS`` (tests, or another online engine with the same
    shape); ``espeak_binary`` names the offline engine's executable.

    Raises ``ValueError`` for empty text or an impossible setting, ``SpeechFailed`` when both
    engines fail. The file is named by its content hash, so speaking the same text twice with
    the same engine yields the same file.
    """
    if not text.strip():
        raise ValueError("text to speak is empty")
    if gtts_timeout_s <= 0:
        raise ValueError("gtts_timeout_s must be positive")
    if espeak_speed_wpm not in _ESPEAK_WPM_RANGE:
        raise ValueError("espeak_speed_wpm must be between 80 and 450")
    out_dir.mkdir(parents=True, exist_ok=True)

    if gtts_enabled:
        try:
            mp3 = gtts_mp3(
                text,
                lang=lang,
                timeout_s=gtts_timeout_s,
                factory=gtts_factory or default_gtts_factory,
            )
            return Speech(path=_write_atomically(out_dir, mp3, "mp3"), engine="gtts")
        except EngineFailed as exc:
            log.warning("%s; falling back to offline espeak-ng voice %r", exc, espeak_voice)

    try:
        wav = espeak_wav(text, voice=espeak_voice, speed_wpm=espeak_speed_wpm, binary=espeak_binary)
    except EngineFailed as exc:
        log.error("offline speech failed: %s", exc)
        online = "online speech (gTTS) failed and " if gtts_enabled else ""
        raise SpeechFailed(
            f"Could not speak the text: {online}the offline voice failed ({exc}). "
            "Upload a recording instead, or ask the administrator to install espeak-ng."
        ) from exc
    return Speech(path=_write_atomically(out_dir, wav, "wav"), engine="espeak-ng")


def _write_atomically(out_dir: Path, data: bytes, extension: str) -> Path:
    """Write ``data`` to ``out_dir/speech-<hash>.<ext>`` via a temporary file and a rename.

    A failed write (a full disk) removes the temporary file and becomes ``SpeechFailed``.
    """
    digest = hashlib.sha256(data).hexdigest()[:16]
    final = out_dir / f"speech-{digest}.{extension}"
    try:
        fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=".speech-", suffix=".tmp")
    except OSError as exc:
        raise SpeechFailed(f"Could not save the spoken audio: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, final)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise SpeechFailed(f"Could not save the spoken audio: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return final
