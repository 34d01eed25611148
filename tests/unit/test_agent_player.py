"""Players: the simulated one on a FakeClock, the ALSA one with stand-in programs."""

from __future__ import annotations

import asyncio
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from edge_agent.alsa_player import AlsaPlayer
from edge_agent.simulated_player import SimulatedPlayer
from firmware_stubs.board import BoardSensors
from firmware_stubs.gpio import SysfsGpioRelay
from firmware_stubs.hardware import Hardware, simulated_hardware
from firmware_stubs.interfaces import HardwareFault
from firmware_stubs.simulated import SimulatedSensors, SimulatedVolume, SimulatedWatchdog
from wardcast_protocol.clock import FakeClock, SystemClock


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.ogg"
    path.write_bytes(b"not decoded by the simulated player")
    return path


async def test_simulated_player_takes_the_clock_time_with_the_relay_on(
    fake_clock: FakeClock, clip: Path
) -> None:
    hardware = simulated_hardware(fake_clock.now)
    player = SimulatedPlayer(fake_clock, hardware, settle_s=0.5, volume=60)
    assert player.lead_s == 0.5
    started: list[object] = []
    play = asyncio.ensure_future(player.play(clip, 10, started.append))
    await settle()
    assert hardware.relay.is_on() and started == []
    await fake_clock.advance(0.5)
    await settle()
    assert started == [fake_clock.now()]
    await fake_clock.advance(10)
    result = await play
    assert (result.completed, result.played_s, result.amplifier_on) == (True, 10, True)
    on, off = hardware.relay.transitions
    assert (on.value, off.value) == (True, False)
    assert (off.at - on.at) == timedelta(seconds=10.5)
    assert hardware.volume.level == 60


async def test_start_at_holds_the_first_sample_until_the_planned_instant(
    fake_clock: FakeClock, clip: Path
) -> None:
    hardware = simulated_hardware(fake_clock.now)
    player = SimulatedPlayer(fake_clock, hardware, settle_s=0.5)
    planned = fake_clock.now() + timedelta(seconds=0.5)
    started: list[object] = []
    play = asyncio.ensure_future(player.play(clip, 2, started.append, planned))
    await settle()
    await fake_clock.advance(0.5)
    await settle()
    assert started == [planned]
    assert hardware.relay.transitions[0].at == planned - timedelta(seconds=0.5)
    await fake_clock.advance(2)
    assert (await play).completed


async def test_stop_ends_a_play_early_with_the_seconds_played(
    fake_clock: FakeClock, clip: Path
) -> None:
    hardware = simulated_hardware(fake_clock.now)
    player = SimulatedPlayer(fake_clock, hardware)
    play = asyncio.ensure_future(player.play(clip, 30))
    await settle()
    await fake_clock.advance(12)
    player.stop()
    result = await play
    assert (result.completed, result.played_s, result.error) == (False, 12, None)
    assert not hardware.relay.is_on()
    # The stop flag does not leak into the next play.
    again = asyncio.ensure_future(player.play(clip, 1))
    await settle()
    await fake_clock.advance(1)
    assert (await again).completed


async def test_stop_requested_before_the_play_task_runs_is_not_lost(
    fake_clock: FakeClock, clip: Path
) -> None:
    player = SimulatedPlayer(fake_clock)
    play = asyncio.ensure_future(player.play(clip, 30))
    player.stop()
    result = await play
    assert not result.completed and result.played_s == 0


async def test_missing_file_and_failing_relay_are_reported_not_raised(
    fake_clock: FakeClock, clip: Path, tmp_path: Path
) -> None:
    hardware = simulated_hardware(fake_clock.now)
    player = SimulatedPlayer(fake_clock, hardware)
    missing = await player.play(tmp_path / "gone.ogg", 5)
    assert missing.error == "media file missing: gone.ogg"
    hardware.relay.fail_with = HardwareFault("GPIO 17 not writable")
    relay = await player.play(clip, 5)
    assert relay.error == "amplifier relay failed: GPIO 17 not writable"
    assert relay.played_s == 0


async def test_stuck_relay_shows_as_no_amplifier_current(fake_clock: FakeClock, clip: Path) -> None:
    hardware = simulated_hardware(fake_clock.now)
    hardware.relay.stuck = True
    player = SimulatedPlayer(fake_clock, hardware)
    play = asyncio.ensure_future(player.play(clip, 1))
    await settle()
    await fake_clock.advance(1)
    result = await play
    assert result.completed and result.amplifier_on is False


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _gpio_hardware(root: Path) -> Hardware:
    gpio = root / "class" / "gpio" / "gpio17"
    gpio.mkdir(parents=True)
    (gpio / "direction").write_text("in")
    (gpio / "value").write_text("0")
    relay = SysfsGpioRelay(17, sysfs_root=root)
    return Hardware(relay, SimulatedVolume(), BoardSensors(relay), SimulatedWatchdog())


async def test_alsa_player_has_the_relay_on_while_aplay_runs_and_off_after(
    tmp_path: Path, clip: Path
) -> None:
    root = tmp_path / "sys"
    hardware = _gpio_hardware(root)
    seen = tmp_path / "relay-seen-by-aplay"
    value = root / "class" / "gpio" / "gpio17" / "value"
    ffmpeg = _script(tmp_path / "ffmpeg", "echo pcm-bytes")
    aplay = _script(tmp_path / "aplay", f"cat > /dev/null; cat {value} > {seen}")
    player = AlsaPlayer(SystemClock(), hardware, settle_s=0.0, ffmpeg=ffmpeg, aplay=aplay)

    result = await player.play(clip, 1.0)

    assert result.completed, result.error
    assert seen.read_text() == "1"  # the amplifier was on while the sink played
    assert value.read_text() == "0"  # and is off afterwards
    assert (root / "class" / "gpio" / "gpio17" / "direction").read_text() == "out"


@pytest.mark.parametrize(
    ("ffmpeg_body", "aplay_body", "expected"),
    [
        ("echo 'Invalid data found' >&2; exit 1", "cat > /dev/null", "ffmpeg exited 1"),
        ("echo pcm", "cat > /dev/null; echo 'no such device' >&2; exit 1", "aplay exited 1"),
    ],
)
async def test_alsa_player_switches_the_relay_off_when_playback_fails(
    tmp_path: Path, clip: Path, ffmpeg_body: str, aplay_body: str, expected: str
) -> None:
    clock = SystemClock()
    hardware = simulated_hardware(clock.now)
    ffmpeg = _script(tmp_path / "ffmpeg", ffmpeg_body)
    aplay = _script(tmp_path / "aplay", aplay_body)
    player = AlsaPlayer(clock, hardware, settle_s=0.0, ffmpeg=ffmpeg, aplay=aplay)

    result = await player.play(clip, 1.0)

    assert not result.completed
    assert result.error is not None and expected in result.error
    assert [t.value for t in hardware.relay.transitions] == [True, False]


async def test_alsa_player_that_cannot_start_still_switches_the_relay_off(
    tmp_path: Path, clip: Path
) -> None:
    clock = SystemClock()
    hardware = simulated_hardware(clock.now)
    player = AlsaPlayer(clock, hardware, settle_s=0.0, ffmpeg=str(tmp_path / "no-ffmpeg"))
    result = await player.play(clip, 1.0)
    assert result.error is not None and result.error.startswith("cannot start the player")
    assert [t.value for t in hardware.relay.transitions] == [True, False]


def test_simulated_sensors_follow_the_relay_contact() -> None:
    hardware = simulated_hardware()
    assert isinstance(hardware.sensors, SimulatedSensors)
    hardware.relay.on()
    assert hardware.sensors.amplifier_current_ok()
    hardware.sensors.amplifier_dead = True
    assert not hardware.sensors.amplifier_current_ok()
