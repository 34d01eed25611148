"""speak(): engine choice, fallback, and never a 0-byte file — with fake engines, no network."""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import wave
from pathlib import Path
from typing import BinaryIO, TypedDict

import pytest

from controller.audio import Speech, SpeechFailed, engines, speak, tts
from controller.audio.engines import EngineFailed

TEXT = "Thông báo: Ủy ban nhân dân phường sẽ cắt nước từ 8 giờ sáng mai."
FAKE_MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 600


def wav_bytes(seconds: float = 0.5) -> bytes:
    """A small valid mono WAV, as espeak-ng would produce."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(22050)
        writer.writeframes(b"\x01\x00" * int(22050 * seconds))
    return buffer.getvalue()


class FakeGtts:
    """Stands in for ``gtts.gTTS``: records its arguments, then behaves as told."""

    def __init__(self, behaviour: str, release: threading.Event | None = None) -> None:
        self.behaviour = behaviour
        self.release = release or threading.Event()
        self.calls: list[dict[str, object]] = []

    def __call__(self, text: str, **kwargs: object) -> FakeGtts:
        self.calls.append({"text": text, **kwargs})
        return self

    def write_to_fp(self, fp: BinaryIO) -> None:
        if self.behaviour == "fail":
            raise ConnectionError("Failed to connect")
        if self.behaviour == "hang":
            self.release.wait(5)
            return
        if self.behaviour == "html":
            fp.write(b"<html>" + b" " * 2000 + b"</html>")
            return
        if self.behaviour == "ok":
            fp.write(FAKE_MP3)
        # "empty": writes nothing, as gTTS.save() does when the connection fails


@pytest.fixture
def espeak_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace espeak-ng with a fake that returns a valid WAV and records the text."""
    calls: list[str] = []

    def fake_espeak(text: str, *, voice: str, speed_wpm: int, binary: str = "espeak-ng") -> bytes:
        calls.append(text)
        return wav_bytes()

    monkeypatch.setattr(tts, "espeak_wav", fake_espeak)
    return calls


def only_file(folder: Path) -> Path:
    files = list(folder.iterdir())
    assert len(files) == 1, files
    return files[0]


def test_gtts_success_is_used_with_its_timeout(tmp_path: Path, espeak_calls: list[str]) -> None:
    fake = FakeGtts("ok")
    speech = speak(TEXT, tmp_path, gtts_factory=fake, gtts_timeout_s=3.0)
    assert speech == Speech(path=speech.path, engine="gtts")
    assert speech.path.suffix == ".mp3"
    assert speech.path.read_bytes() == FAKE_MP3
    assert fake.calls == [{"text": TEXT, "lang": "vi", "timeout": 3.0}]
    assert espeak_calls == []
    assert only_file(tmp_path) == speech.path


def test_gtts_failure_falls_back_to_espeak_with_warning(
    tmp_path: Path, espeak_calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="controller.audio.tts"):
        speech = speak(TEXT, tmp_path, gtts_factory=FakeGtts("fail"))
    assert speech.engine == "espeak-ng"
    assert speech.path.suffix == ".wav"
    assert speech.path.stat().st_size > 44
    assert espeak_calls == [TEXT]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Failed to connect" in warnings[0].getMessage()
    assert "espeak-ng" in warnings[0].getMessage()


@pytest.mark.parametrize("behaviour", ["empty", "html"])
def test_gtts_useless_output_is_not_used(
    tmp_path: Path, espeak_calls: list[str], caplog: pytest.LogCaptureFixture, behaviour: str
) -> None:
    with caplog.at_level(logging.WARNING):
        speech = speak(TEXT, tmp_path, gtts_factory=FakeGtts(behaviour))
    assert speech.engine == "espeak-ng"
    assert only_file(tmp_path) == speech.path  # no 0-byte or partial gTTS file left behind
    assert speech.path.stat().st_size > 0
    assert any("gTTS" in r.getMessage() for r in caplog.records)


def test_hanging_gtts_is_abandoned_after_its_deadline(
    tmp_path: Path, espeak_calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()
    try:
        with caplog.at_level(logging.WARNING):
            speech = speak(
                "Xin chào", tmp_path, gtts_factory=FakeGtts("hang", release), gtts_timeout_s=0.05
            )
    finally:
        release.set()
    assert speech.engine == "espeak-ng"
    assert "did not answer within 0.1 s" in caplog.text


def test_gtts_disabled_goes_straight_to_espeak(tmp_path: Path, espeak_calls: list[str]) -> None:
    fake = FakeGtts("ok")
    speech = speak(TEXT, tmp_path, gtts_enabled=False, gtts_factory=fake)
    assert speech.engine == "espeak-ng"
    assert fake.calls == []


def test_both_engines_failing_raise_speech_failed_and_leave_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(SpeechFailed, match="offline voice failed"):
        speak(
            TEXT,
            out,
            gtts_factory=FakeGtts("fail"),
            espeak_binary=str(tmp_path / "no-such-espeak-ng"),
        )
    assert list(out.iterdir()) == []


def test_espeak_failing_raises_speech_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, **kwargs: object) -> bytes:
        raise EngineFailed("espeak-ng produced no audio")

    monkeypatch.setattr(tts, "espeak_wav", broken)
    with pytest.raises(SpeechFailed, match="produced no audio"):
        speak(TEXT, tmp_path, gtts_enabled=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        speak(text, tmp_path, gtts_factory=FakeGtts("ok"))


class SpeechSettings(TypedDict, total=False):
    """The settings of ``speak`` a refusal test may set out of range."""

    gtts_timeout_s: float
    espeak_speed_wpm: int


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"gtts_timeout_s": 0}, "timeout"), ({"espeak_speed_wpm": 20}, "between 80 and 450")],
)
def test_impossible_settings_are_refused(
    tmp_path: Path, kwargs: SpeechSettings, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        speak(TEXT, tmp_path, **kwargs)


def test_a_failed_write_becomes_speech_failed_without_leftovers(
    tmp_path: Path, espeak_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(SpeechFailed, match="No space left"):
        speak(TEXT, tmp_path, gtts_enabled=False)
    assert list(tmp_path.iterdir()) == []


def test_same_text_same_engine_same_file(tmp_path: Path, espeak_calls: list[str]) -> None:
    first = speak(TEXT, tmp_path, gtts_enabled=False)
    second = speak(TEXT, tmp_path, gtts_enabled=False)
    assert first.path == second.path
    assert only_file(tmp_path) == first.path


def test_espeak_gets_the_text_through_a_utf8_file_not_argv(tmp_path: Path) -> None:
    """A stand-in espeak-ng records its argv and input; the text must arrive byte for byte."""
    record = tmp_path / "record.txt"
    script = tmp_path / "fake-espeak-ng"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys, shutil, wave\n"
        "args = sys.argv[1:]\n"
        "text = open(args[args.index('-f') + 1], encoding='utf-8').read()\n"
        f"open({str(record)!r}, 'w', encoding='utf-8').write(repr(args) + '\\n' + text)\n"
        "with wave.open(args[args.index('-w') + 1], 'wb') as w:\n"
        "    w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)\n"
        "    w.writeframes(b'\\x00\\x01' * 2205)\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    tricky = "-v en " + TEXT
    wav = engines.espeak_wav(tricky, voice="vi", speed_wpm=160, binary=str(script))
    argv, spoken = record.read_text(encoding="utf-8").split("\n", 1)
    assert spoken == tricky
    assert TEXT not in argv
    assert "'-v', 'vi'" in argv and "'-s', '160'" in argv and "'-b', '1'" in argv
    assert len(wav) > 44
