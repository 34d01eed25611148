"""Players: what turns a cached file into sound (or, simulated, into elapsed time).

``Player.play`` runs one file to its end and reports how long it played. ``stop``
ends the current play early (preemption, a stop command, shutdown): ``play`` then
returns normally with ``completed=False`` and the seconds actually played, so the
evidence records them. Cancelling the task running ``play`` also ends it (the
amplifier is switched off on the way out), but reports nothing.

Both players drive the amplifier through ``firmware_stubs``: relay on and a settle
delay before the first sample, relay off afterwards, always. The settle delay is the
player's ``lead_s``: the agent starts a planned play that much early and passes
``start_at``, so the first sample still goes out at the planned instant.

Back to back: the agent prepares the next item while the current one sounds and
calls ``play`` for it with ``after`` (the play still sounding) and a ``start_at`` no
earlier than that play's last sample. The amplifier stays on across the two (the gate
counts its holders), and each play has its own ``stop`` flag, so stopping one never
ends the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from edge_agent.timing import release_at
from firmware_stubs.hardware import Hardware
from firmware_stubs.interfaces import HardwareFault
from wardcast_protocol.clock import Clock

log = logging.getLogger(__name__)

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


class AmplifierGate:
    """Relay on, volume set and settle before; relay off after, even on failure.

    Entering yields the current sensor's verdict (None without hardware). A relay that
    cannot be switched on raises ``HardwareFault``: there would be no sound to report.
    """

    def __init__(
        self, hardware: Hardware | None, clock: Clock, settle_s: float, volume: int | None
    ) -> None:
        self._hardware = hardware
        self._clock = clock
        self._settle_s = settle_s
        self._volume = volume
        # Two plays hold the gate while one hands over to the next, back to back: the
        # first one's exit must not switch off the amplifier the second one plays on.
        self._holders = 0
        self._settled_at: datetime | None = None

    @property
    def lead_s(self) -> float:
        """The settle delay, when there is an amplifier to wait for."""
        return self._settle_s if self._hardware is not None else 0.0

    async def __aenter__(self) -> bool | None:
        hw = self._hardware
        if hw is None:
            return None
        if self._volume is not None:
            hw.volume.set(self._volume)
        if self._holders == 0:
            try:
                hw.relay.on()
            except HardwareFault:
                self._off()
                raise
            self._settled_at = self._clock.now() + timedelta(seconds=self._settle_s)
        self._holders += 1
        try:
            # Already on for the play before: only what is left of its settling.
            settled_at = self._settled_at or self._clock.now()
            remaining = (settled_at - self._clock.now()).total_seconds()
            if remaining > 0:
                await self._clock.sleep(remaining)
        except BaseException:
            self._leave()
            raise
        return hw.sensors.amplifier_current_ok()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()

    def _leave(self) -> None:
        if self._hardware is None:
            return
        self._holders = max(0, self._holders - 1)
        if self._holders == 0:
            self._settled_at = None
            self._off()

    def _off(self) -> None:
        if self._hardware is None:
            return
        try:
            self._hardware.relay.off()
        except HardwareFault as exc:
            # Nothing more to do from software; the evidence and the log carry it.
            log.error("could not switch the amplifier off: %s", exc)


Ending = Literal["done", "stopped", "timeout"]


async def _race(
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


class _StoppablePlayer:
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


class SimulatedPlayer(_StoppablePlayer):
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
        super().__init__()
        self._clock = clock
        self._gate = AmplifierGate(hardware, clock, settle_s, volume)

    @property
    def lead_s(self) -> float:
        """Amplifier warm-up (0 without hardware)."""
        return self._gate.lead_s

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
            missing = _missing(path)
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
                        ending = await _race(wait, flag, self._clock, None)
                    finally:
                        wait.cancel()
                    played = (self._clock.now() - started).total_seconds()
            except HardwareFault as exc:
                return PlayResult(0.0, False, f"amplifier relay failed: {exc}")
            return PlayResult(
                min(played, duration_s), ending == "done", None, amplifier_on, started
            )
        finally:
            self._reset(flag)


class AlsaPlayer(_StoppablePlayer):
    """Decodes with ffmpeg and plays through aplay on a Raspberry Pi.

    Runs ``ffmpeg -nostdin -loglevel error -i FILE -f wav -ac 1 - | aplay -q -D DEVICE``
    as two processes joined by a pipe (no shell, so no quoting of file names). A
    play that overruns its duration by far (a hung sound card) is killed.
    """

    def __init__(
        self,
        clock: Clock,
        hardware: Hardware | None,
        *,
        device: str = "default",
        settle_s: float = 0.5,
        volume: int | None = None,
        ffmpeg: str = "ffmpeg",
        aplay: str = "aplay",
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._clock = clock
        self._gate = AmplifierGate(hardware, clock, settle_s, volume)
        self._device = device
        self._ffmpeg = ffmpeg
        self._aplay = aplay
        self._env = None if env is None else {**os.environ, **env}

    @property
    def lead_s(self) -> float:
        """Amplifier warm-up (0 without hardware)."""
        return self._gate.lead_s

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
        """Play ``path`` through ALSA with the amplifier on.

        After ``after`` (the play before, back to back) has drained: one sound card
        takes one ``aplay`` at a time, so this pipeline starts only once that one ended.
        """
        flag = self._flag(stop)
        try:
            missing = _missing(path)
            if missing is not None:
                return missing
            try:
                async with self._gate as amplifier_on:
                    if after is not None and not after.done():
                        await _race(after, flag, self._clock, None)
                        if flag.is_set():
                            return PlayResult(0.0, False, None, amplifier_on)
                    started = await self._wait_for(self._clock, start_at, flag)
                    if started is None:
                        return PlayResult(0.0, False, None, amplifier_on)
                    if on_start is not None:
                        on_start(started)
                    ending, error = await self._pipeline(path, duration_s, flag)
                    played = (self._clock.now() - started).total_seconds()
            except HardwareFault as exc:
                return PlayResult(0.0, False, f"amplifier relay failed: {exc}")
            if ending == "timeout":
                error = f"playback overran {duration_s:.0f} s and was killed"
            completed = ending == "done" and error is None
            return PlayResult(played, completed, error, amplifier_on, started)
        finally:
            self._reset(flag)

    async def _pipeline(
        self, path: Path, duration_s: float, stop: asyncio.Event
    ) -> tuple[Ending, str | None]:
        read_end, write_end = os.pipe()
        procs: list[asyncio.subprocess.Process] = []
        try:
            try:
                procs.append(
                    await self._spawn(
                        self._ffmpeg,
                        "-nostdin",
                        "-loglevel",
                        "error",
                        "-i",
                        str(path),
                        "-f",
                        "wav",
                        "-ac",
                        "1",
                        "-",
                        stdout=write_end,
                    )
                )
                procs.append(
                    await self._spawn(self._aplay, "-q", "-D", self._device, stdin=read_end)
                )
            except OSError as exc:
                return "done", f"cannot start the player: {exc}"
            finally:
                # The children hold their own copies; ours would keep the pipe open.
                os.close(read_end)
                os.close(write_end)
            decoder, sink = procs
            work = asyncio.ensure_future(asyncio.gather(decoder.communicate(), sink.communicate()))
            ending = await _race(work, stop, self._clock, duration_s * 1.5 + 30.0)
            if ending != "done":
                _terminate(procs)
            (_, dec_err), (_, sink_err) = await work
            if ending != "done":
                return ending, None
            # Either side failing makes the other fail too (empty input, broken pipe):
            # report both, the cause is among them.
            errors = [
                f"{name} exited {proc.returncode}: {_tail(err)}"
                for name, proc, err in (("ffmpeg", decoder, dec_err), ("aplay", sink, sink_err))
                if proc.returncode != 0
            ]
            return "done", "; ".join(errors) or None
        finally:
            # Cancelled (agent aborting) or failed: no orphan may keep the card busy.
            _terminate(procs, kill=True)

    def _spawn(
        self, program: str, *args: str, stdin: int | None = None, stdout: int | None = None
    ) -> Awaitable[asyncio.subprocess.Process]:
        return asyncio.create_subprocess_exec(
            program,
            *args,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else stdin,
            stdout=asyncio.subprocess.DEVNULL if stdout is None else stdout,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
        )


def _missing(path: Path) -> PlayResult | None:
    # A cache evicted under us or a deleted file: report it as the play's failure.
    if path.is_file():
        return None
    return PlayResult(0.0, False, f"media file missing: {path.name}")


def _terminate(procs: list[asyncio.subprocess.Process], *, kill: bool = False) -> None:
    for proc in procs:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill() if kill else proc.terminate()


def _tail(stderr: bytes | None) -> str:
    text = (stderr or b"").decode("utf-8", "replace").strip()
    return text[-300:] or "no message"
