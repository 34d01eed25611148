"""The simulated player: a play takes its duration of (clock) time, silently.

The simulator, the benchmarks and the tests play through it: it drives the amplifier
gate and honours ``start_at``, ``stop`` and ``after`` exactly as the ALSA player does
(see ``edge_agent.player``), so a simulated fleet starts on time by the same path as a
Raspberry Pi.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from edge_agent.player import (
    GatedPlayer,
    PlayResult,
    StartCallback,
    missing_media,
    race,
    relay_failed,
)
from firmware_stubs.hardware import Hardware
from firmware_stubs.interfaces import HardwareFault
from wardcast_protocol.clock import Clock


class SimulatedPlayer(GatedPlayer):
    """Takes the item's duration of (clock) time without making a sound.

    With the system clock it behaves like a real device for the simulator and the
    benchmarks; with a FakeClock a play takes no time and is fully deterministic.
    """

    def __init__(
        self,
        clock: Clock,
        hardware: Hardware | None = None,
        *,
        settle_s: float = 0.0,
        volume: int | None = None,
    ) -> None:
        super().__init__(clock, hardware, settle_s, volume)

    async def play(
        self,
        path: Path,
        duration_s: float,
        on_start: StartCallback | None = None,
        start_at: datetime | None = None,
        *,
        stop: asyncio.Event | None = None,
        after: asyncio.Future[Any] | None = None,
    ) -> PlayResult:
        """Wait ``duration_s`` (or until stopped) with the amplifier on.

        ``after`` needs no wait here: a simulated stream is gapless, and the agent
        passes a ``start_at`` no earlier than the last sample of the play before.
        """
        flag = self._flag(stop)
        try:
            missing = missing_media(path)
            if missing is not None:
                return missing
            try:
                async with self._gate as amplifier_on:
                    started = await self._wait_for(self._clock, start_at, flag)
                    if started is None:
                        return PlayResult(0.0, False, None, amplifier_on)
                    if on_start is not None:
                        on_start(started)
                    wait = asyncio.ensure_future(self._clock.sleep(duration_s))
                    try:
                        ending = await race(wait, flag, self._clock, None)
                    finally:
                        wait.cancel()
                    played = (self._clock.now() - started).total_seconds()
            except HardwareFault as exc:
                return relay_failed(exc)
            return PlayResult(
                min(played, duration_s), ending == "done", None, amplifier_on, started
            )
        finally:
            self._reset(flag)
