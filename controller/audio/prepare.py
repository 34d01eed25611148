"""Turn a spoken or uploaded recording into what the agents play: loud enough, compact, checked.

Steps: refuse what is not usable audio (with a reason an officer understands), decode to 48 kHz
mono, measure and normalise loudness to EBU R128, optionally frame it with a chime, and encode
Ogg/Opus at 32 kbit/s — about 14 MB for 1 h, which a Raspberry Pi on a weak 4G link can fetch.

Then the result is measured: a clip whose speech is not within ``loudness_tolerance_lu`` of
the target is refused, never stored — short texts once came out 18–54 dB too quiet and the
API said 201. An upload may also be required whole (``require_whole``): one cut short in
transfer is refused, naming the length that could be decoded (``integrity``).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pydub import AudioSegment

from controller.audio import integrity, loudness
from controller.audio.chime import chime_duration_s, write_chime
from controller.audio.errors import AudioProcessingFailed, AudioRejected
from controller.audio.ffmpeg_tools import (
    Probe,
    decode_to_wav,
    output_duration_s,
    probe,
    run,
    tool,
)

__all__ = ["AudioProcessingFailed", "AudioRejected", "PreparedAudio", "prepare"]

log = logging.getLogger(__name__)

MIN_DURATION_S = 0.5  # EBU R128 gates in 400 ms blocks: below that loudness is undefined
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # a 30-minute uncompressed stereo WAV fits under it
SILENCE_DBFS = -60.0  # peaks below this are hiss at best; normalising would amplify noise
OPUS_BITRATE = "32k"  # transparent enough for speech and chimes on a street loudspeaker
# EBU R128 allows ±1 LU for a programme; Opus and the true-peak limiter move a clip a little
# more, and a loudspeaker in the street cannot tell 2 LU apart.
LOUDNESS_TOLERANCE_LU = 2.0


@dataclass(frozen=True, slots=True)
class PreparedAudio:
    """Encoded audio ready for the media store, with the facts the agents and evidence need."""

    data: bytes
    sha256: str
    duration_s: float  # of the encoded output, chimes included
    content_type: str  # "audio/ogg"
    extension: str  # "ogg"
    loudness_lufs: float | None  # integrated loudness of the input as measured, before gain


def prepare(
    source: Path,
    *,
    target_lufs: float = -16.0,
    true_peak_db: float = -1.5,
    chime: bool = False,
    max_duration_s: float = 1800.0,
    max_bytes: int = MAX_UPLOAD_BYTES,
    loudness_tolerance_lu: float = LOUDNESS_TOLERANCE_LU,
    require_whole: bool = False,
) -> PreparedAudio:
    """Validate, loudness-normalise, optionally chime, and encode ``source`` as Ogg/Opus.

    Raises ``AudioRejected`` (message fit for the officer) for an empty, oversized, non-audio,
    damaged, silent, too short or too long input, for a result whose loudness misses the
    target by more than ``loudness_tolerance_lu``, and (with ``require_whole``, for uploads)
    for a file cut short; ``AudioProcessingFailed`` (a subclass) when ffmpeg is missing or
    fails on audio it had accepted. Nothing else escapes.
    """
    # ffmpeg's own limits for loudnorm; outside them it would fail on every file.
    if not (-70.0 <= target_lufs <= -5.0 and -9.0 <= true_peak_db <= 0.0):
        raise ValueError("target_lufs must be in [-70, -5] and true_peak_db in [-9, 0]")
    started = time.monotonic()
    _check_file(source, max_bytes)
    probed = probe(source)
    declared = probed.duration_s
    if declared is not None and declared > max_duration_s + 1:
        raise AudioRejected(
            f"audio is {declared:.0f} s long, longer than {max_duration_s:.0f} s",
            code="audio.too_long",
            params={"max": round(max_duration_s)},
        )
    whole = probed if require_whole else None
    try:
        data, duration_s, out_duration_s, measured, result_lufs = _process(
            source, target_lufs, true_peak_db, chime, max_duration_s, whole
        )
    except OSError as exc:  # the temporary space itself failed (full /tmp, permissions)
        raise AudioProcessingFailed(f"no room to process audio ({exc.strerror or exc})") from exc
    _check_loudness(result_lufs, target_lufs, loudness_tolerance_lu)
    log.info(
        "prepared %s: %.1f s in, %.1f s out, %.1f LUFS in, %.1f LUFS out, %d bytes, in %.2f s",
        source.name,
        duration_s,
        out_duration_s,
        measured.integrated_lufs,
        result_lufs,
        len(data),
        time.monotonic() - started,
    )
    return PreparedAudio(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        duration_s=out_duration_s,
        content_type="audio/ogg",
        extension="ogg",
        loudness_lufs=measured.integrated_lufs,
    )


def _process(
    source: Path,
    target_lufs: float,
    true_peak_db: float,
    chime: bool,
    max_duration_s: float,
    whole: Probe | None,
) -> tuple[bytes, float, float, loudness.Measurement, float | None]:
    """Decode, check, measure, normalise, encode and measure again, in a private directory.

    Returns the encoded bytes, input and output durations, the input measurement and the
    integrated loudness of the result's speech (chimes left out).
    """
    with tempfile.TemporaryDirectory(prefix="wardcast-prepare-") as tmp_name:
        tmp = Path(tmp_name)
        speech = tmp / "speech.wav"
        # Decode a little past the limit so "too long" is detected even without a declared length.
        warnings = decode_to_wav(source, speech, max_duration_s=max_duration_s + 1)
        duration_s = _check_decoded(speech, max_duration_s)
        if whole is not None:
            integrity.check_whole(
                source,
                format_name=whole.format_name,
                declared_s=whole.duration_s,
                decoded_s=duration_s,
                decode_stderr=warnings,
            )
        timeout_s = 120 + duration_s
        measured = loudness.measure(
            speech, target_lufs=target_lufs, true_peak_db=true_peak_db, timeout_s=timeout_s
        )
        if measured.integrated_lufs is None:
            raise AudioRejected(
                "audio is too quiet to measure; it seems to be silent", code="audio.silent"
            )
        encoded = tmp / "prepared.ogg"
        norm = loudness.apply_filter(measured, target_lufs=target_lufs, true_peak_db=true_peak_db)
        chime_level = min(target_lufs + 1.0, true_peak_db) if chime else None
        _normalise_and_encode(
            speech, encoded, norm, chime_level, duration_s=duration_s, timeout_s=timeout_s
        )
        out_duration_s = output_duration_s(encoded)
        chime_s = chime_duration_s() if chime else 0.0
        result_lufs = loudness.measure_result(
            encoded, start_s=chime_s, end_s=out_duration_s - chime_s, timeout_s=timeout_s
        )
        return encoded.read_bytes(), duration_s, out_duration_s, measured, result_lufs


def _check_loudness(result_lufs: float | None, target_lufs: float, tolerance_lu: float) -> None:
    """Refuse a result whose speech is not within ``tolerance_lu`` of the target."""
    if result_lufs is None:
        raise AudioRejected(
            f"the prepared audio is too quiet to measure, not {target_lufs:.0f} LUFS",
            code="audio.too_quiet",
        )
    off = result_lufs - target_lufs
    if abs(off) > tolerance_lu:
        raise AudioRejected(
            f"the prepared audio measures {result_lufs:.1f} LUFS, {abs(off):.1f} LU "
            f"{'above' if off > 0 else 'below'} the {target_lufs:.0f} LUFS target (tolerance "
            f"{tolerance_lu:.0f} LU); record it again, evenly and without clipping",
            code="audio.too_loud" if off > 0 else "audio.too_quiet",
        )


def _check_file(source: Path, max_bytes: int) -> None:
    """Refuse a missing, empty or oversized file before any tool looks at it."""
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise AudioRejected(
            f"the audio file cannot be read ({exc.strerror or exc})", code="audio.unreadable"
        ) from exc
    if size == 0:
        raise AudioRejected("the file is empty (0 bytes)", code="audio.empty")
    if size > max_bytes:
        raise AudioRejected(
            f"the file is {size / 1e6:.0f} MB, larger than the {max_bytes / 1e6:.0f} MB limit",
            code="audio.too_large",
            params={"size_mb": round(size / 1e6), "max_mb": round(max_bytes / 1e6)},
        )


def _check_decoded(wav: Path, max_duration_s: float) -> float:
    """Duration of the decoded audio, after refusing empty, too short, too long or silent audio."""
    try:
        segment = AudioSegment.from_wav(str(wav))
    except Exception as exc:  # pydub raises assorted errors on a malformed WAV
        raise AudioRejected("the audio could not be decoded", code="audio.unreadable") from exc
    duration_s = len(segment) / 1000.0
    if duration_s == 0:
        raise AudioRejected("audio is 0 s long", code="audio.empty")
    if duration_s < MIN_DURATION_S:
        raise AudioRejected(
            f"audio is {duration_s:.1f} s long, shorter than {MIN_DURATION_S} s",
            code="audio.too_short",
            params={"min": MIN_DURATION_S},
        )
    if duration_s > max_duration_s:
        raise AudioRejected(
            f"audio is longer than {max_duration_s:.0f} s",
            code="audio.too_long",
            params={"max": round(max_duration_s)},
        )
    if segment.max_dBFS < SILENCE_DBFS:
        raise AudioRejected("audio is silent", code="audio.silent")
    return duration_s


def _normalise_and_encode(
    speech: Path,
    encoded: Path,
    norm: str,
    chime_level: float | None,
    *,
    duration_s: float,
    timeout_s: float,
) -> None:
    """Pass two of loudnorm, the chimes (when ``chime_level`` is set) and Opus, in one ffmpeg run.

    The speech is padded as it was measured (``loudness.padded``) and trimmed back to its
    ``duration_s`` after loudnorm. A chime peaking 1 dB above the speech target reads ~2 LU
    under it: heard, not louder than the message.
    """
    speech_graph = f"[0:a]{loudness.padded()},{norm},atrim=end={duration_s:.6f},aresample=48000"
    args = [tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-y", "-i", str(speech)]
    if chime_level is not None:
        chime_wav = encoded.with_name("chime.wav")
        write_chime(chime_wav, level_dbfs=chime_level)
        args += ["-i", str(chime_wav)]
        graph = f"{speech_graph}[n];[1:a]asplit=2[c1][c2];[c1][n][c2]concat=n=3:v=0:a=1[out]"
    else:
        graph = f"{speech_graph}[out]"
    args += ["-filter_complex", graph, "-map", "[out]", "-map_metadata", "-1"]
    args += ["-c:a", "libopus", "-b:a", OPUS_BITRATE, "-application", "voip"]
    args += ["-ac", "1", "-ar", "48000"]
    # Bit-exact output (fixed Ogg serial number, no encoder tag) makes the same input give the
    # same bytes, so re-preparing a bulletin does not create a second copy in the store.
    args += ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "ogg", str(encoded)]
    loudness.log_applied(run(args, timeout_s=timeout_s))
