"""Air checks for tests and benchmarks: a sink and a player that note what really
sounded, and when.

``CountingSink`` counts the samples a relay really played (``HeardSpan``), ``PlayLog``
the spans a wrapped ``Player`` sounded: the ground truth an agent's evidence (a relay's
books, a play's outcome) is checked against, never the agent's own word for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from edge_agent.pcm import SAMPLE_BYTES, PacedSink, rms_dbfs
from edge_agent.player import Player, PlayResult, StartCallback
from wardcast_protocol.clock import Clock


@dataclass(frozen=True, slots=True)
class HeardSpan:
    """Samples a sink played: from ``start`` to ``end`` at ``level_db``."""

    start: datetime
    end: datetime
    samples: int
    level_db: float

    @property
    def seconds(self) -> float:
        """How long it sounded."""
        return (self.end - self.start).total_seconds()


class CountingSink(PacedSink):
    """A paced sink that counts the samples it really played, and when.

    Each write plays from when the audio before it is done, as on a sound card; a
    close cuts what was still queued. ``spans`` is the ground truth a relay's books
    are checked against.
    """

    def __init__(self, clock: Clock, rate_hz: int, buffer_s: float = 0.5) -> None:
        super().__init__(clock, rate_hz, buffer_s)
        self.spans: list[HeardSpan] = []

    async def write(self, pcm: bytes) -> None:
        """Note when ``pcm`` will sound, then queue it like the paced sink."""
        now = self._clock.now()
        start = max(self.drained_at or now, now)
        samples = len(pcm) // SAMPLE_BYTES
        end = start + timedelta(seconds=samples / self._rate_hz)
        self.spans.append(HeardSpan(start, end, samples, rms_dbfs(pcm)))
        await super().write(pcm)

    async def close(self) -> None:
        """Cut what had not been played yet."""
        now = self._clock.now()
        kept: list[HeardSpan] = []
        for span in self.spans:
            if span.start >= now:
                continue
            if span.end > now:
                played = round((now - span.start).total_seconds() * self._rate_hz)
                span = HeardSpan(span.start, now, played, span.level_db)
            kept.append(span)
        self.spans = kept
        await super().close()

    def heard_s(self, *, at_least_db: float = -200.0, until: datetime | None = None) -> float:
        """Seconds of samples played at or above ``at_least_db`` (before ``until``)."""
        total = 0
        for span in self.spans:
            if span.level_db < at_least_db:
                continue
            if until is not None and span.end > until:
                if span.start >= until:
                    continue
                total += round((until - span.start).total_seconds() * self._rate_hz)
                continue
            total += span.samples
        return total / self._rate_hz

    def first_sound(self, at_least_db: float) -> datetime | None:
        """When the first sample at or above ``at_least_db`` played."""
        return next((s.start for s in self.spans if s.level_db >= at_least_db), None)


class PlayLog:
    """A ``Player`` that passes every play on and notes what really sounded, and when."""

    def __init__(self, player: Player, clock: Clock) -> None:
        self._player = player
        self._clock = clock
        self.plays: list[tuple[Path, datetime, datetime]] = []  # (file, first sample, end)

    @property
    def lead_s(self) -> float:
        """The wrapped player's warm-up."""
        return self._player.lead_s

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
        """Play through the wrapped player; note the span from first sample to end."""
        started: list[datetime] = []

        def note_start(at: datetime) -> None:
            started.append(at)
            if on_start is not None:
                on_start(at)

        result = await self._player.play(
            path, duration_s, note_start, start_at, stop=stop, after=after
        )
        if started:
            self.plays.append((path, started[0], self._clock.now()))
        return result

    def stop(self) -> None:
        """Stop the wrapped player."""
        self._player.stop()

    def played_s(self, path: Path | None = None) -> float:
        """Seconds played (of ``path`` only, if given)."""
        return sum(
            (end - start).total_seconds()
            for file, start, end in self.plays
            if path is None or file == path
        )
