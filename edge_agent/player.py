"""Players: what turns a cached file into sound (or, simulated, into elapsed time).

``Player.play`` runs one file to its end and reports how long it played. ``stop``
ends the current play early (preemption, a stop command, shutdown): ``play`` then
returns normally with ``completed=False`` and the seconds actually played, so the
evidence records them. Cancelling the task running ``play`` also ends it (the
amplifier is switched off on the way out), but reports nothing.

This module holds what every player shares: the ``Player`` contract, ``PlayResult``,
the stop machinery (``StoppablePlayer``, ``race``) and what both players are built on
(``GatedPlayer``: clock, amplifier gate, ``lead_s``). The players themselves:
``SimulatedPlayer`` (``edge_agent.simulated_player``) and ``AlsaPlayer``
(``edge_agent.alsa_player``). Both drive the amplifier through the gate of
``edge_agent.amplifier``: its settle delay is the player's ``lead_s``, and the agent
starts a planned play that much early and passes ``start_at``, so the first sample
still goes out at the planned instant.

Back to back: the agent prepares the next item while the current one sounds and
calls ``play`` for it with ``after`` (the play still sounding) and a ``start_at`` no
earlier than that play's last sample. The amplifier stays on across the two (the gate
counts its holders), and each play has its own ``stop`` flag, so stopping one never
ends the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from edge_agent.amplifier import AmplifierGate
from edge_agent.timing import release_at
from firmware_stubs.hardware import Hardware
from firmware_stubs.interfaces import HardwareFault
from wardcast_protocol.clock import Clock

StartCallback = Callable[[datetime], None]
"""Called with the instant the first sample goes out (after the relay settled)."""


@dataclass(frozen=True, slots=True)
class PlayResult:
    """How one play ended.

    ``completed`` is True only when the whole file played; ``error`` says why not when
    the player failed (as opposed to being stopped); ``amplifier_on`` is the current
    sensor's verdict while playing (None without hardware).
    """

    played_s: float
    completed: bool
    error: str | None = None
    amplifier_on: bool | None = None
    started_at: datetime | None = None


class Player(Protocol):
    """Plays one file at a time."""

    @property
    def lead_s(self) -> float:
        """Seconds needed before the first sample (amplifier warm-up)."""
        ...

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
        """Play ``path`` (expected to last ``duration_s``) and report how it went.

        With ``start_at`` the first sample waits for that instant (after the warm-up).
        ``stop``: this play's own stop flag (without it, ``stop()`` ends the play).
        ``after``: the play before this one, still sounding; this one follows it.
        """
        ...

    def stop(self) -> None:
        """End the current play early; ``play`` returns with ``completed=False``."""
        ...


Ending = Literal["done", "stopped", "timeout"]


async def race(
    work: asyncio.Future[Any], stop: asyncio.Event, clock: Clock, timeout_s: float | None
) -> Ending:
    """Wait for ``work``, a stop request or a timeout; ``work`` is left to the caller."""
    helpers: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
    if timeout_s is not None:
        helpers.append(asyncio.ensure_future(clock.sleep(timeout_s)))
    try:
        await asyncio.wait([work, *helpers], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
    if work.done():
        return "done"
    return "stopped" if stop.is_set() else "timeout"


class StoppablePlayer:
    """The stop flag both players share, unless a play brings its own.

    The player's flag is cleared when a play *ends*, not when it begins, so a stop
    requested between creating the play task and its first step is not lost. A play
    given its own flag (``stop=``) is ended by that flag only: two plays handing over
    back to back are stopped one at a time.
    """

    def __init__(self) -> None:
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """End the current play early (one started without its own flag)."""
        self._stop.set()

    def _flag(self, stop: asyncio.Event | None) -> asyncio.Event:
        return self._stop if stop is None else stop

    @staticmethod
    async def _wait_for(
        clock: Clock, start_at: datetime | None, stop: asyncio.Event
    ) -> datetime | None:
        """Hold the first sample until ``start_at``; the instant it is released, None
        if stopped meanwhile (``timing.release_at``: on time for a thousand at once)."""
        if start_at is None:
            return clock.now()
        return await release_at(clock, start_at, stop)

    def _reset(self, flag: asyncio.Event) -> None:
        if flag is self._stop:
            self._stop = asyncio.Event()


class GatedPlayer(StoppablePlayer):
    """A player that sounds through the amplifier gate on the agent's clock.

    Holds what both players are built with: the clock, and the gate whose settle delay
    is the player's ``lead_s``. Each player keeps its own ``play``: the simulated one is
    on the fan-out bench's hot path, and a shared skeleton calling a per-player step
    would cost every play one more coroutine and await.
    """

    def __init__(
        self, clock: Clock, hardware: Hardware | None, settle_s: float, volume: int | None
    ) -> None:
        super().__init__()
        self._clock = clock
        self._gate = AmplifierGate(hardware, clock, settle_s, volume)

    @property
    def lead_s(self) -> float:
        """Amplifier warm-up (0 without hardware)."""
        return self._gate.lead_s


def relay_failed(exc: HardwareFault) -> PlayResult:
    """The failed play of an amplifier relay that would not switch on."""
    # One wording for both players: the evidence and its readers compare it.
    return PlayResult(0.0, False, f"amplifier relay failed: {exc}")


def missing_media(path: Path) -> PlayResult | None:
    """The failed play of a file that is not there, None when it is."""
    # A cache evicted under us or a deleted file: report it as the play's failure.
    if path.is_file():
        return None
    return PlayResult(0.0, False, f"media file missing: {path.name}")
