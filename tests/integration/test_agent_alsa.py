"""AlsaPlayer with the real ffmpeg and aplay, into the ALSA file sink (no sound card here)."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import wave
from pathlib import Path

import pytest

from edge_agent.alsa_player import AlsaPlayer
from firmware_stubs.hardware import simulated_hardware
from wardcast_protocol.clock import SystemClock

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("ffmpeg", "aplay", "sox")),
        reason="needs ffmpeg, aplay and sox",
    ),
]


def alsa_file_sink(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An ALSA configuration whose default device writes a WAV file (FACTS.md)."""
    out = tmp_path / "out.wav"
    conf = tmp_path / "asound.conf"
    conf.write_text(
        "</usr/share/alsa/alsa.conf>\n"
        f'pcm.!default {{ type file slave.pcm "null" file "{out}" format "wav" }}\n',
        encoding="utf-8",
    )
    return {"ALSA_CONFIG_PATH": str(conf)}, out


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """One second of stereo Ogg Vorbis, made by sox."""
    path = tmp_path / "clip.ogg"
    subprocess.run(
        ["sox", "-n", "-r", "22050", "-c", "2", str(path), "synth", "1", "sine", "440"],
        check=True,
    )
    return path


async def test_alsa_player_decodes_and_plays_into_the_file_sink(tmp_path: Path, clip: Path) -> None:
    env, out = alsa_file_sink(tmp_path)
    clock = SystemClock()
    hardware = simulated_hardware(clock.now)
    player = AlsaPlayer(clock, hardware, settle_s=0.05, volume=70, env=env)

    result = await player.play(clip, 1.0)

    assert result.completed, result.error
    assert result.amplifier_on is True
    assert out.stat().st_size > 44
    with wave.open(str(out)) as wav:
        # Mono, as the pipeline asks ffmpeg for; about a second of it.
        assert wav.getnchannels() == 1
        assert 0.9 < wav.getnframes() / wav.getframerate() < 1.1
    assert [t.value for t in hardware.relay.transitions] == [True, False]
    assert hardware.volume.level == 70


async def test_alsa_player_reports_a_file_ffmpeg_cannot_decode(tmp_path: Path) -> None:
    env, _ = alsa_file_sink(tmp_path)
    garbage = tmp_path / "garbage.ogg"
    garbage.write_bytes(b"this is not audio" * 100)
    clock = SystemClock()
    hardware = simulated_hardware(clock.now)
    player = AlsaPlayer(clock, hardware, settle_s=0.0, env=env)

    result = await player.play(garbage, 1.0)

    assert not result.completed
    assert result.error is not None and "ffmpeg exited" in result.error
    assert [t.value for t in hardware.relay.transitions] == [True, False]


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def test_alsa_player_stop_kills_the_pipeline(tmp_path: Path, clip: Path) -> None:
    clock = SystemClock()
    hardware = simulated_hardware(clock.now)
    ffmpeg = _script(tmp_path / "ffmpeg", "exec sleep 30")
    aplay = _script(tmp_path / "aplay", "exec cat > /dev/null")
    player = AlsaPlayer(clock, hardware, settle_s=0.0, ffmpeg=ffmpeg, aplay=aplay)
    play = asyncio.ensure_future(player.play(clip, 30.0))
    await asyncio.sleep(0.2)
    player.stop()
    result = await asyncio.wait_for(play, 5)
    assert not result.completed and result.error is None
    assert 0.1 < result.played_s < 5
    assert not hardware.relay.is_on()


async def test_cancelling_an_alsa_play_leaves_no_process_and_the_relay_off(
    tmp_path: Path, clip: Path
) -> None:
    clock = SystemClock()
    hardware = simulated_hardware(clock.now)
    pidfile = tmp_path / "pid"
    ffmpeg = _script(tmp_path / "ffmpeg", f"echo $$ > {pidfile}; exec sleep 30")
    aplay = _script(tmp_path / "aplay", "exec cat > /dev/null")
    player = AlsaPlayer(clock, hardware, settle_s=0.0, ffmpeg=ffmpeg, aplay=aplay)
    play = asyncio.ensure_future(player.play(clip, 30.0))
    await asyncio.sleep(0.2)
    play.cancel()
    with pytest.raises(asyncio.CancelledError):
        await play
    await asyncio.sleep(0.1)
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not hardware.relay.is_on()
