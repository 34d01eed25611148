"""Raw PCM for relays: level metering and where relayed audio goes.

A relayed stream is decoded by ffmpeg to mono signed 16-bit little-endian PCM at a
low rate (``stream``), cut into frames of about half a second, measured here
(RMS in dBFS, to tell programme from dead air) and written to a ``PcmSink``:

- ``AplaySink`` feeds ``aplay`` on the Pi (the sound card sets the pace);
- ``PacedSink`` is the simulated device: it takes each frame in real (clock) time,
  as a sound card would, so the relay's arithmetic is the same on both.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from wardcast_protocol.clock import Clock

SAMPLE_BYTES = 2  # s16le
SILENCE_FLOOR_DB = -120.0  # what digital zero reads as (log of 0 is -inf)


def frame_bytes(rate_hz: int, seconds: float) -> int:
    """Bytes in ``seconds`` of mono s16 audio at ``rate_hz`` (a whole number of samples)."""
    return max(1, round(rate_hz * seconds)) * SAMPLE_BYTES


def duration_s(pcm: bytes | bytearray, rate_hz: int) -> float:
    """Seconds of audio in ``pcm`` (mono s16)."""
    return len(pcm) / (SAMPLE_BYTES * rate_hz)


def rms_dbfs(pcm: bytes | bytearray) -> float:
    """RMS level of mono s16le ``pcm`` in dB relative to full scale (≤ 0).

    Pure Python on purpose (no numpy on the Pi image): half a second at 8 kHz is
    4,000 samples, well under a millisecond.
    """
    usable = len(pcm) - len(pcm) % SAMPLE_BYTES
    if usable == 0:
        return SILENCE_FLOOR_DB
    samples = array.array("h")
    samples.frombytes(bytes(pcm[:usable]))
    if sys.byteorder == "big":  # pragma: no cover - every Pi and PC is little-endian
        samples.byteswap()
    mean_square = sum(s * s for s in samples) / len(samples)
    if mean_square <= 0:
        return SILENCE_FLOOR_DB
    return max(SILENCE_FLOOR_DB, 10 * math.log10(mean_square / 32768.0**2))


class PcmSink(Protocol):
    """Where relayed audio goes while the relay is on air."""

    async def open(self) -> None:
        """Get ready to take audio (start the sound process, reset the pace)."""
        ...

    async def write(self, pcm: bytes) -> None:
        """Play ``pcm``; returns when the sink can take more (back-pressure)."""
        ...

    async def close(self) -> None:
        """Stop taking audio and release the sound device (the fallback needs it)."""
        ...


class PacedSink:
    """The simulated loudspeaker: consumes audio at real (clock) speed, makes no sound.

    A sound card holds a small buffer and drains it in real time; this does the same
    with the clock, so a stream that sends a burst on connect is not "played" faster
    than time allows, and the relay's counts match what a real device would report.
    """

    def __init__(self, clock: Clock, rate_hz: int, buffer_s: float = 0.5) -> None:
        self._clock = clock
        self._rate_hz = rate_hz
        self._buffer = timedelta(seconds=buffer_s)
        self._drained_at: datetime | None = None

    @property
    def drained_at(self) -> datetime | None:
        """When the audio written so far will have played (None: nothing queued yet)."""
        return self._drained_at

    async def open(self) -> None:
        """Start with an empty buffer."""
        self._drained_at = None

    async def write(self, pcm: bytes) -> None:
        """Queue ``pcm``; wait while more than the buffer is still to play."""
        now = self._clock.now()
        start = max(self._drained_at or now, now)
        self._drained_at = start + timedelta(seconds=duration_s(pcm, self._rate_hz))
        if self._drained_at - now > self._buffer:
            await self._clock.sleep_until(self._drained_at - self._buffer)

    async def close(self) -> None:
        """Nothing to release."""
        self._drained_at = None


class AplaySink:
    """Feeds raw PCM to ``aplay`` (no shell); the pipe's back-pressure sets the pace."""

    def __init__(
        self,
        rate_hz: int,
        *,
        device: str = "default",
        aplay: str = "aplay",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._rate_hz = rate_hz
        self._device = device
        self._aplay = aplay
        self._env = None if env is None else {**os.environ, **env}
        self._proc: asyncio.subprocess.Process | None = None

    async def open(self) -> None:
        """Start aplay reading S16_LE mono at the relay's rate from its stdin."""
        await self.close()
        self._proc = await asyncio.create_subprocess_exec(
            self._aplay,
            "-q",
            "-t",
            "raw",
            "-f",
            "S16_LE",
            "-c",
            "1",
            "-r",
            str(self._rate_hz),
            "-D",
            self._device,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=self._env,
        )

    async def write(self, pcm: bytes) -> None:
        """Hand ``pcm`` to aplay; a dead aplay is not the stream's fault: dropped quietly."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            return
        with contextlib.suppress(ConnectionError, OSError):
            proc.stdin.write(pcm)
            await proc.stdin.drain()

    async def close(self) -> None:
        """Stop aplay at once: a relay ends for the fallback, an emergency or the window's
        end, and none of those may wait for the card's buffer to play out."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(ConnectionError, OSError):
                proc.stdin.close()
        _kill(proc)
        await asyncio.shield(proc.wait())


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
