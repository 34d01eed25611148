"""prepare() and its helpers, on the paths that need no ffmpeg: refusals, reports, the chime."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from controller.audio import AudioProcessingFailed, AudioRejected, ffmpeg_tools, loudness, prepare
from controller.audio.chime import FRAME_RATE, chime_duration_s, chime_segment

LOUDNORM_STDERR = """Input #0, wav, from 'speech.wav':
  Duration: 00:00:04.79, bitrate: 768 kb/s
[Parsed_loudnorm_0 @ 0x5581] \n{
	"input_i" : "-19.08",
	"input_tp" : "-0.35",
	"input_lra" : "2.10",
	"input_thresh" : "-29.31",
	"output_i" : "-16.75",
	"output_tp" : "-1.50",
	"output_lra" : "1.60",
	"output_thresh" : "-26.90",
	"normalization_type" : "dynamic",
	"target_offset" : "0.75"
}
"""


def test_a_missing_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(AudioRejected, match="cannot be read"):
        prepare(tmp_path / "nothing.mp3")


def test_an_empty_file_is_rejected_before_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: pytest.fail("ran " + name))
    empty = tmp_path / "empty.mp3"
    empty.touch()
    with pytest.raises(AudioRejected, match=r"empty \(0 bytes\)"):
        prepare(empty)


def test_an_oversized_file_is_rejected_before_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: pytest.fail("ran " + name))
    big = tmp_path / "big.wav"
    big.write_bytes(b"\x00" * 3_000_000)
    with pytest.raises(AudioRejected, match="3 MB, larger than the 2 MB limit"):
        prepare(big, max_bytes=2_000_000)


def test_missing_ffmpeg_is_a_processing_failure_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    clip = tmp_path / "clip.mp3"
    clip.write_bytes(b"ID3" + b"\x00" * 100)
    with pytest.raises(AudioProcessingFailed, match="ffprobe is not installed"):
        prepare(clip)


def test_a_failing_tool_becomes_an_error_with_its_last_line() -> None:
    command = ["sh", "-c", "echo noise >&2; echo 'Invalid data found' >&2; exit 1"]
    with pytest.raises(AudioRejected, match=r"not a readable audio file \(Invalid data found\)"):
        ffmpeg_tools.run(command, timeout_s=5, input_is_suspect=True)
    with pytest.raises(AudioProcessingFailed, match="processing failed"):
        ffmpeg_tools.run(command, timeout_s=5)


def test_a_hung_tool_is_stopped() -> None:
    with pytest.raises(AudioProcessingFailed, match="longer than"):
        ffmpeg_tools.run(["sleep", "5"], timeout_s=0.05)


def test_loudnorm_report_is_parsed() -> None:
    report = loudness.parse_report(LOUDNORM_STDERR)
    assert report["input_i"] == "-19.08"
    assert report["normalization_type"] == "dynamic"
    with pytest.raises(AudioProcessingFailed):
        loudness.parse_report("no json here")


def test_second_pass_filter_uses_the_measurement_linearly() -> None:
    report = loudness.parse_report(LOUDNORM_STDERR)
    measured = loudness.Measurement(
        input_i=report["input_i"],
        input_tp=report["input_tp"],
        input_lra=report["input_lra"],
        input_thresh=report["input_thresh"],
        target_offset=report["target_offset"],
    )
    assert measured.integrated_lufs == pytest.approx(-19.08)
    text = loudness.apply_filter(measured, target_lufs=-16.0, true_peak_db=-1.5)
    assert text.startswith("loudnorm=I=-16.0:TP=-1.5:LRA=11.0")
    for part in ("measured_I=-19.08", "measured_TP=-0.35", "measured_LRA=2.10"):
        assert part in text
    assert "measured_thresh=-29.31" in text and "offset=0.75" in text
    assert "linear=true" in text


def test_silence_has_no_integrated_loudness() -> None:
    measured = loudness.Measurement("-inf", "-inf", "0.00", "-70.00", "0.00")
    assert measured.integrated_lufs is None


EBUR128_STDERR = """[Parsed_ebur128_3 @ 0x55d1] Summary:

  Integrated loudness:
    I:         -16.4 LUFS
    Threshold: -26.9 LUFS

  Loudness range:
    LRA:         3.1 LU
"""


def test_the_meter_summary_is_read_and_its_floor_is_no_loudness() -> None:
    assert loudness.parse_integrated(EBUR128_STDERR) == pytest.approx(-16.4)
    # Nothing passed the absolute gate: ebur128 prints its floor, loudnorm says -inf.
    assert loudness.parse_integrated(EBUR128_STDERR.replace("-16.4", "-70.0")) is None
    with pytest.raises(AudioProcessingFailed, match="no summary"):
        loudness.parse_integrated("Conversion failed!")


def test_chime_is_short_mono_48k_and_peaks_where_asked() -> None:
    chime = chime_segment(level_dbfs=-15.0)
    assert chime.channels == 1
    assert chime.frame_rate == FRAME_RATE
    assert 0.8 <= chime_duration_s() <= 2.0
    assert chime.max_dBFS == pytest.approx(-15.0, abs=0.5)
    assert chime[:5].max_dBFS < chime[100:200].max_dBFS  # faded in: no click
    assert chime[-100:].max_dBFS == float("-inf")  # ends in silence before the speech


@pytest.mark.parametrize(("target", "peak"), [(0.0, -1.5), (-16.0, 3.0), (-90.0, -1.0)])
def test_impossible_targets_are_a_programming_error(
    tmp_path: Path, target: float, peak: float
) -> None:
    with pytest.raises(ValueError, match="target_lufs") as caught:
        prepare(tmp_path / "x.wav", target_lufs=target, true_peak_db=peak)
    assert not isinstance(caught.value, AudioRejected)


def test_a_full_temporary_disk_is_a_processing_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare_module = importlib.import_module("controller.audio.prepare")
    monkeypatch.setattr(
        prepare_module, "probe", lambda path: ffmpeg_tools.Probe("wav", 1.0, "pcm_s16le", 1)
    )

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prepare_module.tempfile, "TemporaryDirectory", no_space)
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"RIFF" + b"\x00" * 100)
    with pytest.raises(AudioProcessingFailed, match="No space left"):
        prepare(clip)
