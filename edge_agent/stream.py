"""Reading a live stream for a relay: ffmpeg as a decoder, and a monitor that keeps it up.

``FfmpegStreamOpener`` starts ``ffmpeg`` (no shell) on the stream URL, decoding
whatever it carries (MP3, AAC, Ogg, WAV...) to mono s16le PCM at a low rate on its
stdout. ``StreamMonitor`` owns one relay's connection from ``prebuffer_s`` before
its window to the window's end: it connects, cuts the PCM into frames of about half
a second with their level, and reconnects with backoff whenever the stream ends,
stalls (no bytes for ``dead_after_s``) or cannot be opened. It runs on whether or
not the relay is on air (during the prebuffer, a fallback or an emergency), so the
relay can rejoin the live stream at once; frames nobody takes are dropped, oldest
first, because a live relay must stay live.

A frame is pushed only when it is whole and fresh: the part-frame left when a
connection ends or stalls is dropped, never handed over late, so a frame always
means "a live connection gave this audio just now" (the relay counts on it to tell
a stream that is back from the dregs of one that died).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from edge_agent.aio import wait_any
from edge_agent.pcm import duration_s, frame_bytes, rms_dbfs
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import RelaySpec

log = logging.getLogger(__name__)

FRAME_S = 0.5  # level is measured per frame: long enough to be stable, short to react
_BACKLOG_FRAMES = 4  # at most ~2 s kept for a consumer that is not on air
_ONE_DELIVERY = timedelta(milliseconds=100)  # frames this close came in one delivery
_FIRST_BACKOFF_S = 0.5
# Retries of a failing stream slow down to this, but never below ``dead_after_s``:
# a relay tuned to give up on dead air after 3 s also wants the stream back within 3 s.
_MAX_BACKOFF_S = 8.0
_READ_SIZE = 16 * 1024


class StreamError(Exception):
    """A stream could not be opened (the message says why, for the evidence)."""


class StreamConnection(Protocol):
    """One open stream, delivering PCM."""

    async def read(self) -> bytes:
        """The next PCM bytes available; b"" once the stream has ended."""
        ...

    async def close(self) -> str | None:
        """Stop reading; why the stream ended, when it ended by itself with an error."""
        ...


class StreamOpener(Protocol):
    """Opens a stream URL as mono s16le PCM at ``rate_hz``."""

    async def open(self, url: str, rate_hz: int, stall_s: float) -> StreamConnection:
        """Open ``url``; raise ``StreamError`` if it cannot even be started."""
        ...


class FfmpegConnection:
    """An ffmpeg process decoding a stream to PCM on its stdout."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self._eof = False
        self._stderr = asyncio.ensure_future(self._collect_stderr())

    async def _collect_stderr(self) -> bytes:
        # Read it as it comes: a chatty ffmpeg must never block on a full stderr pipe.
        assert self._proc.stderr is not None
        tail = b""
        while chunk := await self._proc.stderr.read(4096):
            tail = (tail + chunk)[-2000:]
        return tail

    async def read(self) -> bytes:
        """Up to 16 KiB of PCM as soon as any is there; b"" when ffmpeg closed its output."""
        assert self._proc.stdout is not None
        data = await self._proc.stdout.read(_READ_SIZE)
        self._eof = not data
        return data

    async def close(self) -> str | None:
        """Stop ffmpeg; its error, if it exited by itself with one."""
        proc = self._proc
        if self._eof and proc.returncode is None:
            # ffmpeg closed its output: it is exiting by itself, with its own verdict.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 2.0)
        exited_alone = proc.returncode is not None
        if not exited_alone:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        try:
            code = await proc.wait()
            err = await self._stderr
        except asyncio.CancelledError:
            self._stderr.cancel()
            raise
        text = err.decode("utf-8", "replace").strip().splitlines()
        if not exited_alone or code == 0:
            return None
        # The last line is usually the cause ("Connection refused", "Invalid data found").
        return f"ffmpeg exited {code}: {text[-1][-200:] if text else 'no message'}"


class FfmpegStreamOpener:
    """Opens streams with an ffmpeg subprocess (no shell; HTTP(S) only)."""

    def __init__(self, ffmpeg: str = "ffmpeg") -> None:
        self._ffmpeg = ffmpeg

    async def open(self, url: str, rate_hz: int, stall_s: float) -> StreamConnection:
        """Start ffmpeg on ``url``; raise ``StreamError`` if ffmpeg cannot be started."""
        args = [
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            # Only network protocols: a redirect must not make ffmpeg read a local file.
            "-protocol_whitelist",
            "http,https,tcp,tls,crypto",
            # A socket that stays quiet this long ends ffmpeg (microseconds).
            "-rw_timeout",
            str(int(stall_s * 1_000_000)),
            # Start decoding after a little data, not seconds of probing: it is live.
            "-probesize",
            "32768",
            "-analyzeduration",
            "500000",
            "-i",
            url,
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(rate_hz),
            # Each decoded packet goes out at once: the relay meters it as it arrives.
            "-flush_packets",
            "1",
            "-f",
            "s16le",
            "-",
        ]
        try:
            proc = await asyncio.create_subprocess_exec(
                self._ffmpeg,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise StreamError(f"cannot start ffmpeg: {exc}") from exc
        return FfmpegConnection(proc)


@dataclass(frozen=True, slots=True)
class Frame:
    """About half a second of PCM, its RMS level, and which connection gave it."""

    pcm: bytes
    seconds: float
    level_db: float
    connection: int  # the monitor's attempt number: a new one means a reconnect
    arrived: datetime  # when its last byte came


class StreamMonitor:
    """Keeps one relay's stream connected from its prebuffer instant to its window's end."""

    def __init__(
        self,
        spec: RelaySpec,
        opener: StreamOpener,
        clock: Clock,
        *,
        connect_at: datetime,
        until: datetime,
        rate_hz: int,
    ) -> None:
        self.spec = spec
        self._opener = opener
        self._clock = clock
        self._connect_at = connect_at
        self.until = until
        self._rate_hz = rate_hz
        self._frame_bytes = frame_bytes(rate_hz, FRAME_S)
        self._frames: deque[Frame] = deque(maxlen=_BACKLOG_FRAMES)
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.attempts = 0
        self.up = False
        # Down from the first attempt on, never earlier: a monitor made late (the
        # relay learnt of mid-window) has not yet had its chance to connect.
        self.down_since: datetime | None = max(connect_at, clock.now())
        self.problem: str | None = None
        # Each failure (a repeat of the one in force is not noted again) and each time
        # the stream came up (None), with when: what the evidence's reason is made of.
        self.history: list[tuple[datetime, str | None]] = []
        self.failing = False  # the last attempt failed and no audio came since

    @property
    def reconnects(self) -> int:
        """Connection attempts after the first one."""
        return max(0, self.attempts - 1)

    def start(self) -> None:
        """Start the monitor's task (it waits for ``connect_at`` by itself)."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
            self._task.set_name(f"relay-{self.spec.station or 'stream'}")

    def cancel(self) -> None:
        """Close the stream now (its ffmpeg is stopped as the task unwinds)."""
        if self._task is not None:
            self._task.cancel()

    @property
    def has_frames(self) -> bool:
        """True when frames are waiting to be taken."""
        return bool(self._frames)

    def skip_backlog(self) -> None:
        """Keep only what the stream delivered last, in one go: going on air joins the
        stream live. That is one frame for a stream that comes steadily (the prebuffer:
        the first sample goes out on the instant), a whole page for one that comes in
        pages (an Ogg page holds about a second), so the next delivery is in time."""
        if not self._frames:
            return
        newest = self._frames[-1].arrived
        while len(self._frames) > 1 and newest - self._frames[0].arrived > _ONE_DELIVERY:
            self._frames.popleft()

    async def next_frame(self, deadline: datetime, stop: asyncio.Event) -> Frame | None:
        """The next frame; None if ``deadline`` passes or ``stop`` is set first."""
        while not self._frames:
            if stop.is_set() or self._clock.now() >= deadline:
                return None
            self._arrived.clear()
            await wait_any([], self._arrived.wait(), stop.wait(), self._clock.sleep_until(deadline))
        frame = self._frames.popleft()
        if not self._frames:
            self._arrived.clear()
        return frame

    # the connection loop -------------------------------------------------------------

    async def _run(self) -> None:
        await self._clock.sleep_until(self._connect_at)
        longest = min(_MAX_BACKOFF_S, max(_FIRST_BACKOFF_S, self.spec.dead_after_s))
        backoff = _FIRST_BACKOFF_S
        while self._clock.now() < self.until:
            self.attempts += 1
            delivered = await self._connect_once()
            if self.up:
                self.up, self.down_since = False, self._clock.now()
            if self._clock.now() >= self.until:
                break
            # A stream that played is retried at once, and its failures start over
            # from the shortest delay; one that keeps failing, ever less often (0.5 s
            # doubling), so a dead server is not hammered by every loudspeaker.
            if delivered:
                wait_s, backoff = 0.0, _FIRST_BACKOFF_S
            else:
                wait_s, backoff = backoff, min(longest, backoff * 2)
            remaining = (self.until - self._clock.now()).total_seconds()
            await self._clock.sleep(min(wait_s, max(0.0, remaining)))

    async def _connect_once(self) -> bool:
        """One connection, read to its end; True if it delivered any audio."""
        try:
            conn = await self._opener.open(self.spec.url, self._rate_hz, self.spec.dead_after_s)
        except StreamError as exc:
            self._set_problem(str(exc))
            return False
        delivered = False
        pending = bytearray()
        ended: str | None = None
        try:
            while self._clock.now() < self.until:
                chunk = await self._read(conn)
                if chunk is None:
                    ended = f"no data for {self.spec.dead_after_s:g} s"
                    break
                if not chunk:
                    break
                if not delivered:
                    delivered = self.up = True
                    self.down_since, self.failing = None, False
                    self.history.append((self._clock.now(), None))
                    log.info("relay %s: stream up", self.spec.url)
                pending += chunk
                while len(pending) >= self._frame_bytes:
                    self._push(bytes(pending[: self._frame_bytes]))
                    del pending[: self._frame_bytes]
        finally:
            # The part-frame left over is not pushed: after a stall it is seconds old,
            # and played now it would sound (and count) as the stream coming back.
            error = await conn.close()
        if self._clock.now() < self.until:
            why = ended or error or ("stream ended" if delivered else "stream sent no audio")
            self._set_problem(why)
        return delivered

    async def _read(self, conn: StreamConnection) -> bytes | None:
        """The next bytes; None when none came for ``dead_after_s`` or the window ended."""
        read = asyncio.ensure_future(conn.read())
        limit = min(self.until, self._clock.now() + timedelta(seconds=self.spec.dead_after_s))
        try:
            await wait_any([read], self._clock.sleep_until(limit))
        finally:
            if not read.done():
                read.cancel()
                await asyncio.gather(read, return_exceptions=True)
        if read.cancelled() or read.exception() is not None:
            return None
        return read.result()

    def _push(self, pcm: bytes) -> None:
        seconds, level, now = duration_s(pcm, self._rate_hz), rms_dbfs(pcm), self._clock.now()
        self._frames.append(Frame(pcm, seconds, level, self.attempts, now))
        self._arrived.set()

    def _set_problem(self, text: str) -> None:
        if not self.failing or text != self.problem:
            self.history.append((self._clock.now(), text))
        self.problem, self.failing = text, True
        log.warning("relay %s: %s", self.spec.url, text)
