"""Every prepared clip is measured, and uploads cut short are refused.

Short texts spoken without a chime came out 18–54 dB too quiet ("Chú ý!" at −70.9 dB
mean) and were stored; half-uploaded mp3 and ogg files became shorter bulletins without
a word. Real espeak-ng and ffmpeg here; the loudness is read back by ffmpeg's ebur128
meter, independently of the loudnorm that made it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.audio import AudioRejected, PreparedAudio, prepare, speak
from controller.composition import ControllerRuntime
from controller.messaging.broker import EmbeddedBroker
from controller.settings import Settings
from tests.support.auth import auth_headers
from tests.support.ffmpeg import ebur128_lufs, ffmpeg

pytestmark = pytest.mark.integration

prepare_module = importlib.import_module("controller.audio.prepare")
loudness_module = importlib.import_module("controller.audio.loudness")

TARGET_LUFS = -16.0


def integrated_lufs(data: bytes, workdir: Path) -> float:
    path = workdir / "measured.ogg"
    path.write_bytes(data)
    return ebur128_lufs(path, before="apad=whole_dur=5")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("checks")


@pytest.fixture(scope="module")
def tone(workdir: Path) -> Path:
    """Twenty seconds of a speech-like tone: long enough to cut in half."""
    path = workdir / "tone.wav"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=330:duration=20", "-af", "apulsator=hz=2", str(path)
    )
    return path


def encoded(tone: Path, workdir: Path, name: str, *extra: str) -> Path:
    path = workdir / name
    ffmpeg("-i", str(tone), *extra, str(path))
    return path


def half_of(path: Path) -> Path:
    cut = path.with_name(f"half-{path.name}")
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    return cut


@pytest.mark.parametrize("text", ["Chú ý!", "Xin chào", "Thông báo cắt nước"])
def test_a_short_text_without_chime_reaches_the_target(text: str, workdir: Path) -> None:
    speech = speak(text, workdir / f"speech-{len(text)}", gtts_enabled=False)
    result = prepare(speech.path, target_lufs=TARGET_LUFS, chime=False)
    assert result.duration_s < 2.0
    assert abs(integrated_lufs(result.data, workdir) - TARGET_LUFS) <= 2.0


def test_a_normaliser_gone_wrong_is_refused_not_stored(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As loudnorm did on short input: the second pass makes the clip far too quiet.
    monkeypatch.setattr(loudness_module, "apply_filter", lambda *a, **k: "volume=-40dB")
    speech = speak("Thông báo cắt nước", workdir / "wrong", gtts_enabled=False)
    with pytest.raises(AudioRejected, match=r"LU below the -16 LUFS target \(tolerance 2 LU\)"):
        prepare(speech.path, target_lufs=TARGET_LUFS)


@pytest.mark.parametrize(
    ("name", "extra", "why"),
    [
        ("tone.mp3", (), "declares 20.0 s but only 1"),  # Xing header: the full length
        ("tone.ogg", ("-c:a", "libvorbis"), "Ogg file is cut short"),
        ("tone.opus", ("-c:a", "libopus"), "Ogg file is cut short"),
        ("tone.flac", (), "damaged or cut short"),
        ("tone-cut.wav", (), "damaged or cut short"),
    ],
)
def test_an_upload_cut_in_half_is_refused_naming_the_decoded_length(
    tone: Path, workdir: Path, name: str, extra: tuple[str, ...], why: str
) -> None:
    whole = encoded(tone, workdir, name, *extra)
    accepted = prepare(whole, target_lufs=TARGET_LUFS, require_whole=True)
    assert accepted.duration_s == pytest.approx(20, abs=0.2)
    with pytest.raises(AudioRejected) as refused:
        prepare(half_of(whole), target_lufs=TARGET_LUFS, require_whole=True)
    message = str(refused.value)
    assert why in message, message
    assert re.search(r"only (9|10)\.\d s of it could be decoded", message), message
    assert message.endswith("upload the whole file")


def test_speech_we_made_is_not_held_to_the_upload_check(tone: Path, workdir: Path) -> None:
    cut = half_of(encoded(tone, workdir, "ours.ogg", "-c:a", "libvorbis"))
    result: PreparedAudio = prepare(cut, target_lufs=TARGET_LUFS)
    assert 8 < result.duration_s < 11


# --- through the API -------------------------------------------------------------------


# The api fixture: an officer's client, and the runtime it serves.
Api = tuple[TestClient, ControllerRuntime]


@pytest.fixture
def api(tmp_path: Path, broker: EmbeddedBroker) -> Iterator[Api]:
    settings = Settings(
        data_dir=tmp_path, broker_url=broker.url, gtts_enabled=False, environment="test"
    )
    runtime = ControllerRuntime(settings)
    with TestClient(create_app(runtime=runtime)) as client:
        runtime.start()
        client.headers.update(auth_headers(runtime, "officer", all_wards=True))
        yield client, runtime
        runtime.stop()


def _media_files(runtime: ControllerRuntime) -> list[Path]:
    root = runtime.settings.data_dir / "media"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_cut_upload_is_a_422_that_names_what_was_decoded_and_stores_nothing(
    api: Api, tone: Path, workdir: Path
) -> None:
    client, runtime = api
    cut = half_of(encoded(tone, workdir, "api.mp3"))
    before = _media_files(runtime)
    with cut.open("rb") as upload:
        refused = client.post(
            "/api/v1/bulletins/upload",
            data={"title": "Thông báo"},
            files={"file": ("thong-bao.mp3", upload, "audio/mpeg")},
        )
    assert refused.status_code == 422, refused.text
    assert re.search(r"declares 20\.0 s but only (9|10)\.\d s", refused.json()["detail"])
    assert client.get("/api/v1/bulletins").json() == []
    assert _media_files(runtime) == before


def test_a_nul_in_the_text_no_longer_cuts_the_speech(api: Api) -> None:
    client, _ = api
    clean = "Ngày mai cắt nước từ 8 giờ đến 11 giờ, bà con chú ý."
    cut_at = clean.index(" từ")
    made = client.post(
        "/api/v1/bulletins",
        json={
            "title": "Cắt nước",
            "text": clean[:cut_at] + "\x00" + clean[cut_at:],
            "chime": False,
        },
    )
    assert made.status_code == 201, made.text
    whole = client.post(
        "/api/v1/bulletins", json={"title": "Cắt nước", "text": clean, "chime": False}
    )
    assert made.json()["text"] == clean
    # The same words are spoken: the same audio, not the part before the NUL.
    assert made.json()["media"]["sha256"] == whole.json()["media"]["sha256"]
