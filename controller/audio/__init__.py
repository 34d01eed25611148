"""Audio pipeline of the controller: speech, preparation for the agents, storage and serving.

- ``speak``: Vietnamese text to an audio file, by gTTS when online, else offline espeak-ng.
- ``prepare``: any recording to EBU R128-normalised Ogg/Opus, optionally framed by a chime.
- ``MediaStore``: content-addressed files (``root/ab/<sha256>.<ext>``), written atomically.

The domain services call these; nothing here knows about bulletins or schedules.
"""

from controller.audio.errors import AudioProcessingFailed, AudioRejected
from controller.audio.prepare import PreparedAudio, prepare
from controller.audio.store import MediaStore, MediaStoreFull, StoredMedia
from controller.audio.tts import Speech, SpeechFailed, speak

__all__ = [
    "AudioProcessingFailed",
    "AudioRejected",
    "MediaStore",
    "MediaStoreFull",
    "PreparedAudio",
    "Speech",
    "SpeechFailed",
    "StoredMedia",
    "prepare",
    "speak",
]
