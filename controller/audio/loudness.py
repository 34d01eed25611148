"""EBU R128 loudness normalisation with ffmpeg's ``loudnorm``, in two passes.

One pass would guess the programme's loudness from a 3 s window and ride the gain (audibly, on
speech); measuring the whole file first lets the second pass apply one constant gain
(``linear=true``) wherever the true-peak limit allows it.

``loudnorm`` looks 3 s ahead, and on shorter input it goes wrong: espeak-ng's "Chú ý!"
(1.1 s, measured −16.6 LUFS) came out at −68.8 LUFS, 53 dB too quiet, because the first
pass reports a nonsense ``target_offset`` and the second cannot buffer its window. Both
passes therefore run on the audio padded with silence to :data:`PAD_TO_S` (silence is
gated out of the measurement, so it changes nothing but the window), the result is
trimmed back, and :func:`measure_result` measures what was actually made.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from controller.audio.errors import AudioProcessingFailed
from controller.audio.ffmpeg_tools import run, tool

log = logging.getLogger(__name__)

# EBU R128's default loudness range; narrower would squeeze announcements harder than needed.
LOUDNESS_RANGE_LU = 11.0
# Past loudnorm's 3 s look-ahead, with room to spare.
PAD_TO_S = 5.0
_JSON_TAIL = re.compile(r"\{[^{}]*\}\s*$")
_INTEGRATED = re.compile(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-?inf|nan) LUFS")
# BS.1770's absolute gate: ebur128 reports this floor when no block passed it.
ABSOLUTE_GATE_LUFS = -70.0


@dataclass(frozen=True, slots=True)
class Measurement:
    """First-pass statistics that the second pass needs (ffmpeg's names, as strings)."""

    input_i: str
    input_tp: str
    input_lra: str
    input_thresh: str
    target_offset: str

    @property
    def integrated_lufs(self) -> float | None:
        """Integrated loudness of the input; ``None`` when it is too quiet or short to gate."""
        value = float(self.input_i)
        return value if math.isfinite(value) else None


def target_filter(target_lufs: float, true_peak_db: float) -> str:
    """The ``loudnorm`` target options shared by both passes."""
    return f"loudnorm=I={target_lufs:.1f}:TP={true_peak_db:.1f}:LRA={LOUDNESS_RANGE_LU:.1f}"


def padded() -> str:
    """The filter that pads short audio with silence to :data:`PAD_TO_S` (longer is untouched)."""
    return f"apad=whole_dur={PAD_TO_S:.1f}"


def measure(wav: Path, *, target_lufs: float, true_peak_db: float, timeout_s: float) -> Measurement:
    """Pass one: measure integrated loudness, true peak, range and gating threshold."""
    args = [tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-i", str(wav)]
    args += ["-af", f"{padded()},{target_filter(target_lufs, true_peak_db)}:print_format=json"]
    args += ["-f", "null", "-"]
    report = parse_report(run(args, timeout_s=timeout_s))
    return Measurement(
        input_i=report["input_i"],
        input_tp=report["input_tp"],
        input_lra=report["input_lra"],
        input_thresh=report["input_thresh"],
        target_offset=report["target_offset"],
    )


def apply_filter(m: Measurement, *, target_lufs: float, true_peak_db: float) -> str:
    """Pass two: the ``loudnorm`` filter that applies the measured correction linearly."""
    return (
        f"{target_filter(target_lufs, true_peak_db)}"
        f":measured_I={m.input_i}:measured_TP={m.input_tp}:measured_LRA={m.input_lra}"
        f":measured_thresh={m.input_thresh}:offset={m.target_offset}"
        ":linear=true:print_format=json"
    )


def measure_result(path: Path, *, start_s: float, end_s: float, timeout_s: float) -> float | None:
    """Integrated loudness of ``path`` between ``start_s`` and ``end_s`` (the speech, without
    the chimes around it); ``None`` when it is too quiet to gate.

    Read by ffmpeg's EBU R128 meter (``ebur128``), not ``loudnorm``: the meter alone, where
    loudnorm also resamples to 192 kHz for its true-peak limiter. Same BS.1770 gating
    (the two agreed within 0.15 LU on speech and tones here); a fifth of a text
    bulletin's preparation (1.23 -> 0.97 s for 18 s of speech with its chimes).
    """
    window = f"atrim=start={start_s:.3f}:end={end_s:.3f},asetpts=PTS-STARTPTS"
    args = [tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-i", str(path)]
    # framelog=verbose: its ten lines a second below the info level; the summary at it.
    args += ["-af", f"{window},{padded()},ebur128=framelog=verbose", "-f", "null", "-"]
    return parse_integrated(run(args, timeout_s=timeout_s))


def parse_integrated(stderr: str) -> float | None:
    """The integrated loudness in ``ebur128``'s summary; ``None`` at its -70 LUFS floor,
    where nothing passed the absolute gate (loudnorm says -inf)."""
    found = _INTEGRATED.findall(stderr)
    if not found:
        raise AudioProcessingFailed("ffmpeg ebur128 printed no summary")
    value = float(found[-1])
    return value if math.isfinite(value) and value > ABSOLUTE_GATE_LUFS else None


def log_applied(stderr: str) -> None:
    """Log how pass two went: ffmpeg silently switches to dynamic mode when linear cannot fit."""
    try:
        report = parse_report(stderr)
    except AudioProcessingFailed:
        return
    log.info(
        "loudnorm %s: output %s LUFS, true peak %s dBTP",
        report.get("normalization_type", "?"),
        report.get("output_i", "?"),
        report.get("output_tp", "?"),
    )


def parse_report(stderr: str) -> dict[str, str]:
    """The JSON block that ``loudnorm`` prints at the end of ffmpeg's stderr."""
    found = _JSON_TAIL.search(stderr)
    if found is None:
        raise AudioProcessingFailed("ffmpeg loudnorm printed no measurement")
    try:
        data = json.loads(found.group(0))
    except json.JSONDecodeError as exc:
        raise AudioProcessingFailed("ffmpeg loudnorm printed an unreadable measurement") from exc
    return {str(k): str(v) for k, v in data.items()}
