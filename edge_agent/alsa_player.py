"""The ALSA player: ffmpeg decodes, aplay plays, on a Raspberry Pi.

Two processes joined by a pipe, no shell; this module owns them: started for a play,
raced against the play's stop flag and a generous timeout (a hung sound card), and
never left behind (terminated when stopped, killed on any way out). One sound card
takes one ``aplay`` at a time, so a play back to back waits for the one before to
drain. What ``play`` promises is ``edge_agent.player``'s; the amplifier is
``edge_agent.amplifier``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from edge_agent.player import (
    Ending,
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


class AlsaPlayer(GatedPlayer):
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
        super().__init__(clock, hardware, settle_s, volume)
        self._device = device
        self._ffmpeg = ffmpeg
        self._aplay = aplay
        self._env = None if env is None else {**os.environ, **env}

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
            missing = missing_media(path)
            if missing is not None:
                return missing
            try:
                async with self._gate as amplifier_on:
                    if after is not None and not after.done():
                        await race(after, flag, self._clock, None)
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
                return relay_failed(exc)
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
            ending = await race(work, stop, self._clock, duration_s * 1.5 + 30.0)
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


def _terminate(procs: list[asyncio.subprocess.Process], *, kill: bool = False) -> None:
    for proc in procs:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill() if kill else proc.terminate()


def _tail(stderr: bytes | None) -> str:
    text = (stderr or b"").decode("utf-8", "replace").strip()
    return text[-300:] or "no message"
