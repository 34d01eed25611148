"""The speaker check of ``wardcast-agent check``: a tone through the configured chain.

The tone plays as a bulletin does: the mixer set to the configured volume, the relay
switched on and given its settle time, the file decoded by ffmpeg and played by aplay
on the configured card (``player=alsa``), the relay off afterwards. With the simulated
player it is a timed silence, which still exercises the relay and the mixer drivers.
"""

from __future__ import annotations

import asyncio
import math
import struct
import tempfile
import wave
from pathlib import Path

from edge_agent.config import AgentConfig
from edge_agent.site_check import Result, vn
from edge_agent.wiring import hardware_for, player_for
from firmware_stubs.alsa import AlsaMixerVolume
from wardcast_protocol.clock import SystemClock

TONE_HZ = 880


def write_tone(path: Path, seconds: float, rate_hz: int = 16000) -> None:
    """A sine tone with short fades (no click), 16-bit mono WAV."""
    frames = int(seconds * rate_hz)
    fade = max(1, int(0.02 * rate_hz))
    samples = bytearray()
    for n in range(frames):
        envelope = min(1.0, n / fade, (frames - n) / fade)
        value = 0.5 * envelope * math.sin(2 * math.pi * TONE_HZ * n / rate_hz)
        samples += struct.pack("<h", int(value * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes(bytes(samples))


def check_speaker(config: AgentConfig, seconds: float) -> Result:
    """Play a tone as a bulletin plays: volume, relay on, player, relay off."""
    clock = SystemClock()
    hardware = hardware_for(config, clock)
    player = player_for(config, clock, hardware)
    with tempfile.TemporaryDirectory(prefix="wardcast-check-") as tmp:
        tone = Path(tmp) / "tone.wav"
        write_tone(tone, seconds)
        try:
            result = asyncio.run(asyncio.wait_for(player.play(tone, seconds), seconds + 30))
        except TimeoutError:
            return Result(
                "speaker",
                False,
                "phát thử quá lâu, đã dừng",
                "the test tone did not finish; stopped",
            )
    where = f"ALSA {config.alsa_device}" if config.player == "alsa" else "simulated"
    if not result.completed:
        error = result.error or "stopped"
        return Result(
            "speaker",
            False,
            f"không phát được ({where}): {error}",
            f"the test tone did not play ({where}): {error}",
        )
    if result.amplifier_on is False:
        return Result(
            "speaker",
            False,
            f"đã phát ({where}) nhưng âm ly không có điện (rơ-le GPIO {config.relay_gpio_pin})",
            f"played ({where}) but the amplifier is not powered (relay GPIO "
            f"{config.relay_gpio_pin})",
        )
    volume = hardware.volume
    if isinstance(volume, AlsaMixerVolume) and volume.last_error:
        return Result(
            "speaker",
            False,
            f"đã phát, nhưng không đặt được âm lượng: {volume.last_error}",
            f"played, but the volume could not be set: {volume.last_error}",
        )
    if config.player != "alsa":
        return Result(
            "speaker",
            True,
            f"bộ phát mô phỏng: {vn(seconds)} s im lặng (đặt WARDCAST_AGENT_PLAYER=alsa "
            "để nghe thật)",
            f"simulated player: {seconds:.1f} s of silence (set WARDCAST_AGENT_PLAYER=alsa "
            "to hear it)",
        )
    return Result(
        "speaker",
        True,
        f"đã phát tiếng bíp {vn(seconds)} s qua {where}, âm lượng {config.volume}: hãy nghe ở loa",
        f"played a {seconds:.1f} s tone on {where} at volume {config.volume}: listen for "
        "it at the loudspeakers",
    )
