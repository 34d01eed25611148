"""Fake media for the unit tier, tests and benchmarks: a media server answering from
memory, and live streams played from a script on a clock (no network, no ffmpeg).

``FakeMediaFetcher`` stands in for a ``MediaFetcher``, ``FakeStreamOpener`` for a
``StreamOpener``; each records what it was asked for, so a test sees the fetches and
the (re)connections the agent made.
"""

from __future__ import annotations

import array
import asyncio
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from edge_agent.stream import StreamConnection, StreamError
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import MediaRef


class FakeMediaFetcher:
    """A ``MediaFetcher`` serving bytes from memory; records every fetch.

    ``fail_next[url] = n`` makes the next ``n`` fetches of ``url`` raise ``OSError``.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.calls: list[str] = []
        self.fail_next: dict[str, int] = {}

    def add(
        self,
        data: bytes,
        *,
        url: str | None = None,
        duration_s: float = 30.0,
        content_type: str = "audio/ogg",
    ) -> MediaRef:
        """Serve ``data`` and return the reference a plan would carry for it."""
        digest = hashlib.sha256(data).hexdigest()
        url = url or f"http://media.test/{digest[:12]}"
        self.files[url] = data
        return MediaRef(
            sha256=digest,
            url=url,
            duration_s=duration_s,
            size_bytes=len(data),
            content_type=content_type,
        )

    async def fetch(self, url: str, sink: Callable[[bytes], None], max_bytes: int) -> None:
        """Hand over the bytes for ``url`` (or fail as told)."""
        self.calls.append(url)
        if self.fail_next.get(url, 0) > 0:
            self.fail_next[url] -= 1
            raise OSError(f"simulated network failure fetching {url}")
        if url not in self.files:
            raise OSError(f"404 {url}")
        sink(self.files[url][: max_bytes + 1])


Segment = tuple[str, float]
"""("sound" | "silence" | "stall" | "page", seconds) of a scripted live stream: sound
and silence come half a second at a time, a page (of sound) all at once."""


def tone_pcm(rate_hz: int, seconds: float, amplitude: int = 8000) -> bytes:
    """Mono s16le sine at 440 Hz (about -15 dBFS by default)."""
    n = round(rate_hz * seconds)
    samples = array.array(
        "h", (round(amplitude * math.sin(2 * math.pi * 440 * i / rate_hz)) for i in range(n))
    )
    return samples.tobytes()


class _ScriptedConnection:
    """A live stream played from a script on a clock: half-second frames in real time."""

    def __init__(self, clock: Clock, rate_hz: int, script: Sequence[Segment]) -> None:
        self._clock = clock
        self._rate_hz = rate_hz
        self._frames = self._expand(script)

    @staticmethod
    def _expand(script: Sequence[Segment]) -> list[tuple[str, float]]:
        frames: list[tuple[str, float]] = []
        for kind, seconds in script:
            if kind in ("stall", "page"):
                frames.append((kind, seconds))
                continue
            frames += [(kind, 0.5)] * round(seconds * 2)
        return frames

    async def read(self) -> bytes:
        """The next half second, after it has "happened"; b"" at the script's end."""
        while self._frames:
            kind, seconds = self._frames.pop(0)
            await self._clock.sleep(seconds)
            if kind in ("sound", "page"):
                return tone_pcm(self._rate_hz, seconds)
            if kind == "silence":
                return bytes(round(self._rate_hz * seconds) * 2)
        return b""

    async def close(self) -> str | None:
        """Nothing to release; a scripted end is not an error."""
        return None


class FakeStreamOpener:
    """A ``StreamOpener`` of scripted live streams for the unit tier.

    Each open takes the next entry of ``connections``: a script of segments played
    in clock time and then ended, or a string, which makes the open fail with it.
    Once they are used up every open fails with "connection refused".
    """

    def __init__(self, clock: Clock, connections: Iterable[Sequence[Segment] | str] = ()) -> None:
        self._clock = clock
        self.connections = list(connections)
        self.opened: list[str] = []
        self.opened_at: list[datetime] = []

    async def open(self, url: str, rate_hz: int, stall_s: float) -> StreamConnection:
        """The next scripted connection (or its failure)."""
        self.opened.append(url)
        self.opened_at.append(self._clock.now())
        await asyncio.sleep(0)
        entry = self.connections.pop(0) if self.connections else "connection refused"
        if isinstance(entry, str):
            raise StreamError(entry)
        return _ScriptedConnection(self._clock, rate_hz, entry)
