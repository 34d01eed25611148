"""Clocks: the real one, and a fake one that tests move by hand.

Everything that reads the time or waits for an instant takes a ``Clock``, so unit
tests never sleep and never depend on the machine's load.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time (UTC, aware) and waiting for it."""

    def now(self) -> datetime:
        """The current instant, UTC-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Wait until the wall clock reads ``when`` (returns at once if past)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current instant, UTC-aware."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of real time."""
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, when: datetime) -> None:
        """Wait until ``when``; re-reads the clock so a long wait tracks wall time.

        Long waits are cut into slices of at most 30 s: if NTP steps the clock, the
        play still starts at the wall-clock instant, not at a stale monotonic one.
        """
        while True:
            remaining = (when - self.now()).total_seconds()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 30.0))


class FakeClock:
    """A clock that only moves when a test calls ``advance``."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
        self._waiters: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def now(self) -> datetime:
        """The fake instant."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the fake clock has moved ``seconds``."""
        await self.sleep_until(self._now + timedelta(seconds=max(0.0, seconds)))

    async def sleep_until(self, when: datetime) -> None:
        """Wait until ``advance`` moves the fake clock to ``when``."""
        if when <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (when, next(self._counter), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper due on the way, in order."""
        target = self._now + timedelta(seconds=seconds)
        while self._waiters and self._waiters[0][0] <= target:
            when, _, fut = heapq.heappop(self._waiters)
            self._now = max(self._now, when)
            if not fut.done():
                fut.set_result(None)
            # Let the woken task run (and perhaps schedule more sleeps) before going on.
            for _ in range(5):
                await asyncio.sleep(0)
        self._now = target
        for _ in range(5):
            await asyncio.sleep(0)
