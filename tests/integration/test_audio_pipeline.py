"""The audio pipeline with the real espeak-ng, ffmpeg and (unreachable) gTTS."""

from __future__ import annotations

import importlib
import json
import logging
import subprocess
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from controller.audio import AudioRejected, MediaStore, PreparedAudio, Speech, prepare, speak
from controller.audio.chime import chime_duration_s
from controller.audio.ffmpeg_tools import Probe
from tests.support.ffmpeg import ebur128_lufs as integrated_lufs
from tests.support.ffmpeg import ffmpeg

pytestmark = pytest.mark.integration

# The package re-exports the function prepare(), which hides the module of the same name.
prepare_module = importlib.import_module("controller.audio.prepare")

TEXT = "Thông báo: Ủy ban nhân dân phường sẽ cắt nước từ 8 giờ sáng mai."
TARGET_LUFS = -16.0


def lavfi(path: Path, source: str, *extra: str) -> Path:
    """A test signal from ffmpeg's generators, written to ``path``."""
    ffmpeg("-f", "lavfi", "-i", source, *extra, str(path))
    return path


def stream_info(path: Path) -> dict[str, object]:
    out = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-of", "json", str(path)),
            *("-show_entries", "stream=codec_name,channels,sample_rate"),
            *("-show_entries", "format=format_name,duration"),
        ],
        capture_output=True,
        check=True,
    ).stdout
    info = json.loads(out)
    return {**info["streams"][0], **info["format"]}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="module")
def speech(workdir: Path) -> Speech:
    """Speech by espeak-ng: gTTS is enabled but cannot reach its service."""
    with pytest.MonkeyPatch.context() as patch:
        # A closed local port as proxy makes gTTS fail the same way with or without internet.
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            patch.setenv(name, "http://127.0.0.1:9")
        for name in ("NO_PROXY", "no_proxy"):
            patch.delenv(name, raising=False)
        return speak(TEXT, workdir / "speech", gtts_timeout_s=3.0)


@pytest.fixture(scope="module")
def prepared(speech: Speech, workdir: Path) -> tuple[PreparedAudio, Path]:
    result = prepare(speech.path, target_lufs=TARGET_LUFS)
    out = workdir / "prepared.ogg"
    out.write_bytes(result.data)
    return result, out


def test_vietnamese_text_is_spoken_offline_when_gtts_fails(
    workdir: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    with caplog.at_level(logging.WARNING, logger="controller.audio.tts"):
        result = speak(TEXT, workdir / "logged")
    assert result.engine == "espeak-ng"
    assert "gTTS failed" in caplog.text and "espeak-ng" in caplog.text
    info = stream_info(result.path)
    assert info["format_name"] == "wav"
    assert 3.0 < float(str(info["duration"])) < 8.0
    assert [p.stat().st_size > 0 for p in (workdir / "logged").iterdir()] == [True]


def test_text_that_looks_like_options_is_spoken_not_obeyed(workdir: Path) -> None:
    injected = workdir / "injected.wav"
    result = speak(f"--help -w {injected} Xin chào bà con", workdir / "dashes", gtts_enabled=False)
    assert result.path.stat().st_size > 1000
    assert not injected.exists()


def test_prepared_audio_is_mono_opus_at_target_loudness(
    speech: Speech, prepared: tuple[PreparedAudio, Path]
) -> None:
    result, out = prepared
    info = stream_info(out)
    assert info["codec_name"] == "opus"
    assert info["channels"] == 1
    assert info["sample_rate"] == "48000"
    assert info["format_name"] == "ogg"
    assert (result.content_type, result.extension) == ("audio/ogg", "ogg")
    source_s = float(str(stream_info(speech.path)["duration"]))
    assert result.duration_s == pytest.approx(source_s, abs=0.1)
    assert result.duration_s == pytest.approx(float(str(info["duration"])), abs=0.001)
    assert abs(integrated_lufs(out) - TARGET_LUFS) <= 1.5
    assert result.loudness_lufs is not None and -40 < result.loudness_lufs < 0
    assert len(result.data) < 40_000  # ~32 kbit/s for ~5 s


def test_the_same_input_gives_the_same_bytes(
    speech: Speech, prepared: tuple[PreparedAudio, Path]
) -> None:
    assert prepare(speech.path, target_lufs=TARGET_LUFS).sha256 == prepared[0].sha256


def test_chime_frames_the_message(speech: Speech, prepared: tuple[PreparedAudio, Path]) -> None:
    chimed = prepare(speech.path, target_lufs=TARGET_LUFS, chime=True)
    added = chimed.duration_s - prepared[0].duration_s
    assert added == pytest.approx(2 * chime_duration_s(), abs=0.05)
    assert chimed.sha256 != prepared[0].sha256


def test_a_quiet_stereo_upload_is_normalised_and_downmixed(workdir: Path) -> None:
    # A tremolo makes it speech-like enough for loudnorm's gating; -30 dB makes it quiet.
    quiet = ("-af", "volume=-30dB,apulsator=hz=2", "-ac", "2", "-ar", "44100")
    upload = lavfi(workdir / "quiet.mp3", "sine=frequency=330:duration=3", *quiet)
    result = prepare(upload, target_lufs=-18.0)
    out = workdir / "quiet.ogg"
    out.write_bytes(result.data)
    assert stream_info(out)["channels"] == 1
    assert result.loudness_lufs is not None and result.loudness_lufs < -30
    assert abs(integrated_lufs(out) - -18.0) <= 1.5


def test_prepared_audio_round_trips_through_the_store(
    prepared: tuple[PreparedAudio, Path], workdir: Path
) -> None:
    result = prepared[0]
    stored = MediaStore(workdir / "media").put(result.data, extension=result.extension)
    assert stored.sha256 == result.sha256
    assert stored.path.read_bytes() == result.data


# --- refusals ------------------------------------------------------------------------------


class Limits(TypedDict, total=False):
    """The limits of ``prepare`` a refusal test may lower."""

    max_duration_s: float
    max_bytes: int


def rejected(path: Path, **kwargs: Unpack[Limits]) -> str:
    with pytest.raises(AudioRejected) as caught:
        prepare(path, **kwargs)
    return str(caught.value)


def test_corrupt_bytes_are_rejected(workdir: Path) -> None:
    path = workdir / "corrupt.mp3"
    path.write_bytes(bytes(range(256)) * 64)
    assert "not an audio file" in rejected(path)


def test_a_text_file_renamed_mp3_is_rejected(workdir: Path) -> None:
    path = workdir / "notice.mp3"
    path.write_text(TEXT * 20, encoding="utf-8")
    assert "not an audio file" in rejected(path)


def test_a_zero_length_file_is_rejected(workdir: Path) -> None:
    path = workdir / "zero.wav"
    path.touch()
    assert rejected(path) == "the file is empty (0 bytes)"


def test_an_over_long_file_is_rejected(workdir: Path) -> None:
    path = lavfi(workdir / "long.wav", "sine=frequency=440:duration=4")
    assert rejected(path, max_duration_s=2) == "audio is 4 s long, longer than 2 s"


def test_an_over_long_stream_without_declared_length_is_rejected(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some streams declare no duration; the capped decode must still catch them."""
    path = lavfi(workdir / "long.ogg", "sine=frequency=440:duration=5")
    monkeypatch.setattr(prepare_module, "probe", lambda p: Probe("ogg", None, "vorbis", 1))
    assert rejected(path, max_duration_s=2) == "audio is longer than 2 s"


def test_a_silent_file_is_rejected(workdir: Path) -> None:
    path = lavfi(workdir / "silence.wav", "anullsrc=r=16000:cl=mono", "-t", "2")
    assert rejected(path) == "audio is silent"


def test_a_too_short_file_is_rejected(workdir: Path) -> None:
    path = lavfi(workdir / "blip.wav", "sine=frequency=440:duration=0.2")
    assert "shorter than 0.5 s" in rejected(path)


def test_a_video_without_sound_is_rejected(workdir: Path) -> None:
    path = lavfi(workdir / "video.mkv", "testsrc=duration=1:size=32x32:rate=5")
    assert "no sound track" in rejected(path)


def test_a_playlist_disguised_as_mp3_is_not_followed(workdir: Path) -> None:
    """ffmpeg would open the files or URLs a playlist lists; an upload must not make it."""
    target = lavfi(workdir / "private.wav", "sine=frequency=440:duration=2")
    playlist = workdir / "playlist.mp3"
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile://{target}\n#EXT-X-ENDLIST\n",
        encoding="utf-8",
    )
    assert "not an audio file" in rejected(playlist)
