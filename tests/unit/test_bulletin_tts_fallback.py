"""A text bulletin is still made when gTTS fails: the offline voice speaks it, with a warning.

The unit tier has no network and no ffmpeg: gTTS is a fake that cannot connect,
espeak-ng a fake that returns a WAV, and audio preparation a stand-in. What is under
test is the bulletin service's behaviour, not the engines.
"""

from __future__ import annotations

import hashlib
import io
import logging
import wave
from pathlib import Path
from typing import BinaryIO

import pytest

from controller.audio import tts
from controller.audio.prepare import PreparedAudio
from controller.domain.content.bulletins import BulletinDraft, BulletinService
from controller.settings import Settings
from tests.unit.controller_support import make_harness

OGG = b"OggS" + b"\x00" * 400


class UnreachableGtts:
    """``gtts.gTTS`` on a machine without internet: every request fails to connect."""

    def __init__(self, text: str, **kwargs: object) -> None:
        self.text = text

    def write_to_fp(self, fp: BinaryIO) -> None:
        raise ConnectionError("Failed to connect to translate.google.com")


def _wav(*_: object, **__: object) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(22050)
        writer.writeframes(b"\x01\x00" * 11025)
    return buffer.getvalue()


def _prepared(self: BulletinService, source: Path, chime: bool, **_: object) -> PreparedAudio:
    return PreparedAudio(OGG, hashlib.sha256(OGG).hexdigest(), 4.0, "audio/ogg", "ogg", -20.0)


def test_gtts_failure_gives_an_offline_spoken_bulletin_and_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tts, "default_gtts_factory", UnreachableGtts)
    monkeypatch.setattr(tts, "espeak_wav", _wav)
    monkeypatch.setattr(BulletinService, "_prepare", _prepared)
    harness = make_harness(tmp_path)
    settings = Settings(data_dir=tmp_path, gtts_enabled=True, gtts_timeout_s=2, environment="test")
    service = BulletinService(settings, harness.runtime.media)
    with caplog.at_level(logging.WARNING), harness.runtime.db.session() as session:
        draft = BulletinDraft(title="Cắt nước")
        text = "Ngày mai phường cắt nước."
        bulletin = service.create_from_text(session, draft, text, harness.clock.now())
        assert bulletin.tts_engine == "espeak-ng"
        assert bulletin.status == "draft" and bulletin.media.duration_s == 4.0
    harness.runtime.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("Failed to connect" in m and "espeak-ng" in m for m in warnings), warnings
