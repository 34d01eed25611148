"""The two speech engines behind ``speak()``: online gTTS and offline espeak-ng.

Each engine returns audio bytes or raises ``EngineFailed`` with a short reason; neither writes
into the caller's directory, so a failing engine can never leave a partial or 0-byte file there.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

# A spoken word of gTTS's 32 kbit/s MP3 is well over 1 kB; anything this small is an error
# body or a truncated download, not speech.
GTTS_MIN_BYTES = 512
# gTTS sends one request per ~100 characters; its timeout applies to each request. A healthy
# service answers a request in well under a second, so each request after the first gets 2 s
# towards the overall deadline: a service slower than that is worse than the offline voice.
_GTTS_CHARS_PER_REQUEST = 100
_GTTS_EXTRA_S_PER_REQUEST = 2.0
# espeak-ng renders ~40 words in ~0.02 s; a minute means it is stuck, not slow.
ESPEAK_TIMEOUT_S = 60.0


class EngineFailed(Exception):
    """One engine could not produce speech; the message says why (for the log)."""


class GttsLike(Protocol):
    """The part of ``gtts.gTTS`` that ``speak()`` uses."""

    def write_to_fp(self, fp: BinaryIO) -> None:
        """Write MP3 bytes to ``fp``."""


GttsFactory = Callable[..., GttsLike]


def default_gtts_factory(text: str, *, lang: str, timeout: float) -> GttsLike:
    """The real gTTS client; imported lazily so the offline path never needs it."""
    from gtts import gTTS

    client: Any = gTTS(text, lang=lang, timeout=timeout)
    return client  # type: ignore[no-any-return]


def gtts_mp3(text: str, *, lang: str, timeout_s: float, factory: GttsFactory) -> bytes:
    """MP3 bytes from gTTS, or ``EngineFailed``.

    ``timeout`` bounds each HTTP read inside gTTS, but a server that trickles bytes could still
    hold it for ever; so the call also runs in a daemon thread with an overall deadline, and a
    thread that overruns is abandoned (it only ever writes into its own memory buffer).
    """
    requests = max(1, math.ceil(len(text) / _GTTS_CHARS_PER_REQUEST))
    deadline_s = timeout_s + _GTTS_EXTRA_S_PER_REQUEST * (requests - 1)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            buffer = io.BytesIO()
            factory(text, lang=lang, timeout=timeout_s).write_to_fp(buffer)
            outcome["data"] = buffer.getvalue()
        except Exception as exc:  # any failure of a third-party client means "fall back"
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="gtts", daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        raise EngineFailed(f"gTTS did not answer within {deadline_s:.1f} s")
    if "error" in outcome:
        exc = outcome["error"]
        raise EngineFailed(f"gTTS failed: {type(exc).__name__}: {exc}")
    data: bytes = outcome.get("data", b"")
    if len(data) < GTTS_MIN_BYTES:
        raise EngineFailed(f"gTTS returned {len(data)} bytes, too few to be speech")
    if not _looks_like_mp3(data):
        raise EngineFailed("gTTS returned data that is not MP3")
    return data


def _looks_like_mp3(data: bytes) -> bool:
    """An ID3 tag or an MPEG frame sync at the start: enough to reject an HTML error page."""
    return data.startswith(b"ID3") or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def espeak_wav(text: str, *, voice: str, speed_wpm: int, binary: str = "espeak-ng") -> bytes:
    """WAV bytes from espeak-ng, or ``EngineFailed``.

    The text goes through a UTF-8 file (``-f``, ``-b 1``), never the command line or a shell,
    so leading dashes cannot become options and Vietnamese diacritics survive intact.
    """
    executable = shutil.which(binary)
    if executable is None:
        raise EngineFailed(f"{binary} is not installed")
    with tempfile.TemporaryDirectory(prefix="wardcast-espeak-") as tmp:
        text_path = Path(tmp) / "text.txt"
        wav_path = Path(tmp) / "speech.wav"
        text_path.write_text(text, encoding="utf-8")
        command = [executable, "-v", voice, "-s", str(speed_wpm), "-b", "1"]
        command += ["-f", str(text_path), "-w", str(wav_path)]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineFailed(f"{binary} could not run: {exc}") from exc
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
            raise EngineFailed(f"{binary} failed: {reason}")
        data = wav_path.read_bytes() if wav_path.exists() else b""
    if _wav_frames(data) == 0:
        raise EngineFailed(f"{binary} produced no audio")
    return data


def _wav_frames(data: bytes) -> int:
    """Number of audio frames in a WAV, 0 if it is empty or not a WAV."""
    try:
        with wave.open(io.BytesIO(data)) as reader:
            return int(reader.getnframes())
    except (wave.Error, EOFError):
        return 0
