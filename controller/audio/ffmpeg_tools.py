"""Thin, hardened wrappers around the ffprobe and ffmpeg command-line tools.

Uploads are untrusted: ffmpeg's auto-detection would happily open an HLS playlist renamed
``.mp3`` and fetch the URLs or local files it lists. Every call on an input therefore restricts
demuxers to plain audio containers and protocols to local files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.audio.errors import AudioProcessingFailed, AudioRejected

# Audio containers an officer's phone or PC produces (ffmpeg demuxer names). Playlists, concat
# lists, images and devices are deliberately absent.
AUDIO_DEMUXERS = (
    "wav,w64,mp3,ogg,flac,mov,matroska,aac,amr,aiff,caf,asf,au,ac3,eac3,wv,ape,tta,mpc,mpc8"
)
_SAFE_INPUT = ["-protocol_whitelist", "file", "-format_whitelist", AUDIO_DEMUXERS]


@dataclass(frozen=True, slots=True)
class Probe:
    """What ffprobe says about a file's container and first audio stream."""

    format_name: str
    duration_s: float | None
    codec: str
    channels: int


def tool(name: str) -> str:
    """Path of ``ffmpeg``/``ffprobe``, or ``AudioProcessingFailed`` saying it is missing."""
    found = shutil.which(name)
    if found is None:
        raise AudioProcessingFailed(f"{name} is not installed on the controller")
    return found


def run(args: list[str], *, timeout_s: float, input_is_suspect: bool = False) -> str:
    """Run an ffmpeg-family command; return its stderr (where ffmpeg prints reports).

    A non-zero exit becomes ``AudioRejected`` when the command reads the officer's file
    (``input_is_suspect``), else ``AudioProcessingFailed``; both carry ffmpeg's last line.
    """
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AudioProcessingFailed(f"audio processing took longer than {timeout_s:.0f} s") from exc
    except OSError as exc:
        raise AudioProcessingFailed(f"could not run {Path(args[0]).name}: {exc}") from exc
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        lines = [line for line in stderr.splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit {done.returncode}"
        if input_is_suspect:
            raise AudioRejected(f"not a readable audio file ({detail})", code="audio.format")
        raise AudioProcessingFailed(f"audio processing failed ({detail})")
    return stderr


def probe(path: Path) -> Probe:
    """Container and first audio stream of ``path``, or ``AudioRejected`` if it has none."""
    args = [tool("ffprobe"), "-v", "error", *_SAFE_INPUT, "-show_entries"]
    args += ["format=format_name,duration:stream=codec_type,codec_name,channels"]
    args += ["-of", "json", str(path)]
    try:
        done = subprocess.run(args, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioProcessingFailed(f"could not inspect the audio: {exc}") from exc
    if done.returncode != 0:
        raise AudioRejected("not an audio file, or a damaged one", code="audio.format")
    try:
        info: dict[str, Any] = json.loads(done.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise AudioRejected("not an audio file, or a damaged one", code="audio.format") from exc
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise AudioRejected("not an audio file (it has no sound track)", code="audio.format")
    fmt = info.get("format", {})
    return Probe(
        format_name=str(fmt.get("format_name", "")),
        duration_s=_float_or_none(fmt.get("duration")),
        codec=str(streams[0].get("codec_name", "")),
        channels=int(streams[0].get("channels") or 0),
    )


def decode_to_wav(source: Path, target: Path, *, max_duration_s: float) -> str:
    """Decode the first audio stream to 48 kHz mono 16-bit WAV, at most ``max_duration_s`` long.

    Mono at 48 kHz is what the agents play; converting here keeps memory at ~96 kB per second
    of audio, and the cap stops a 10-hour upload from filling the disk before it is refused.
    Returns ffmpeg's warnings and errors, each line tagged with its level ("[error] …"), so a
    caller can tell a damaged file from a whole one (``integrity``).
    """
    args = [tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-y"]
    args += ["-loglevel", "level+warning", *_SAFE_INPUT]
    args += ["-i", str(source), "-map", "0:a:0", "-vn", "-sn", "-dn", "-t", f"{max_duration_s:.3f}"]
    args += ["-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le", "-f", "wav", str(target)]
    return run(args, timeout_s=120 + max_duration_s / 4, input_is_suspect=True)


def output_duration_s(path: Path) -> float:
    """Real duration of an encoded file, as ffprobe reads it from the container."""
    args = [tool("ffprobe"), "-v", "error", "-show_entries", "format=duration"]
    args += ["-of", "json", str(path)]
    try:
        done = subprocess.run(args, capture_output=True, timeout=30, check=True)
        value = json.loads(done.stdout)["format"]["duration"]
        return float(value)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as exc:
        raise AudioProcessingFailed(f"could not read the encoded audio's duration: {exc}") from exc


def _float_or_none(value: object) -> float | None:
    """ffprobe prints numbers as strings, and "N/A" when it does not know."""
    try:
        return float(str(value))
    except ValueError:
        return None
