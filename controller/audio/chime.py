"""A two-tone "ding-dong" chime, generated rather than shipped, to frame announcements.

Public-address systems open and close a notice with a chime so listeners in the street know a
message is coming and when it has ended. Generating it keeps the repository free of assets with
unclear licences.
"""

from __future__ import annotations

from pathlib import Path

from pydub import AudioSegment
from pydub.generators import Sine

FRAME_RATE = 48_000
# E5 then C5 (a falling major third): the classic, unalarming PA chime.
_TONES_HZ = (659.25, 523.25)
_TONE_MS = 450
_GAP_MS = 50
_TAIL_MS = 300  # silence after the chime, so the speech does not start on the decay
_FADE_IN_MS = 10  # long enough to avoid a click, short enough to keep the strike
_FADE_OUT_MS = 350


def chime_segment(level_dbfs: float = -15.0) -> AudioSegment:
    """The chime as a 48 kHz mono segment whose tones peak at ``level_dbfs``.

    A sine peaking at P dBFS reads about P − 3 LUFS, so the default sits a little below the
    −16 LUFS speech target: present, but not louder than the message.
    """
    chime = AudioSegment.silent(duration=0, frame_rate=FRAME_RATE)
    for frequency in _TONES_HZ:
        tone = Sine(frequency, sample_rate=FRAME_RATE).to_audio_segment(
            duration=_TONE_MS, volume=level_dbfs
        )
        tone = tone.fade_in(_FADE_IN_MS).fade_out(_FADE_OUT_MS)
        chime += tone + AudioSegment.silent(duration=_GAP_MS, frame_rate=FRAME_RATE)
    chime += AudioSegment.silent(duration=_TAIL_MS, frame_rate=FRAME_RATE)
    return chime.set_channels(1).set_frame_rate(FRAME_RATE).set_sample_width(2)


def chime_duration_s() -> float:
    """Length of one chime in seconds (the prepared audio grows by twice this)."""
    return len(chime_segment()) / 1000.0


def write_chime(path: Path, level_dbfs: float = -15.0) -> None:
    """Write the chime as a WAV file for ffmpeg to splice around the speech."""
    chime_segment(level_dbfs).export(str(path), format="wav")
