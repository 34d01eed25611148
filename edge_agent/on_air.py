"""On air: a clip handed to the player, and the watch kept over a play until it ends.

Apart from ``playback`` because once an item sounds the work changes: no longer
choosing what plays next, but watching what plays now. The supervisor waits for the
play (a clip's, or a relay's run from ``relay_turn``) to end; meanwhile it preempts
it one player lead before an EMERGENCY is due (docs/priorities.md), and at the
instant ``handover`` names it arms the item due next to follow back to back. While
an item sounds, its journal row notes the first sample's instant and, every
``progress_s``, that it still sounds; a play cut by a crash is reported at the next
start from that row (``play_journal``).

The loop's state (the item in hand, whether it is stopping) stays ``playback``'s:
read here through callables, never copied. This is the timing path of hundreds of
agents on one loop: the play's task is created before its supervisor waits, the
progress ticker before the watch and cancelled after it; keep every await, task and
callback in its order (``bench.start_precision`` measures it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from edge_agent.aio import wait_any
from edge_agent.handover import Follower, Handover, InHand
from edge_agent.play_journal import PlayJournal
from edge_agent.player import Player, PlayResult
from edge_agent.schedule import PlayQueue
from edge_agent.timing import expect_start
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Outcome

log = logging.getLogger(__name__)

PROGRESS_S = 1.0  # how often a sounding play's journal row says it still sounds


class OnAir:
    """Sounds a clip and supervises every play of one agent's loop until it ends."""

    def __init__(
        self,
        *,
        device_id: str,
        queue: PlayQueue,
        player: Player,
        journal: PlayJournal,
        clock: Clock,
        wake: asyncio.Event,
        handover: Handover,
        progress_s: float,
        on_started: Callable[[str, datetime], None],
        current: Callable[[], InHand | None],
        stopping: Callable[[], bool],
        request_stop: Callable[[str, Outcome, str], bool],
        follow: Follower,
    ) -> None:
        self._device_id = device_id
        self._queue = queue
        self._player = player
        self._journal = journal
        self._clock = clock
        self._wake = wake
        self._handover = handover
        self._progress_s = progress_s
        self._on_started = on_started
        self._current = current  # the loop's current item (not the one armed to follow)
        self._stopping = stopping
        self._request_stop = request_stop
        self._follow = follow  # plays the item armed to follow (``Playback._guarded``)

    async def sound(
        self,
        current: InHand,
        path: Path,
        start_at: datetime | None = None,
        after: asyncio.Future[PlayResult] | None = None,
    ) -> PlayResult:
        """Play ``current``'s clip at its instant (or ``start_at``, after ``after``),
        supervised until it ends; a player's error becomes its result."""
        item = current.pending.item
        due = current.pending.due_at
        if start_at is None:
            start_at = due if due > self._clock.now() else None
        self._journal.start(item, start_at or self._clock.now(), current.pending.plan_version)
        current.playing = True
        # Its own stop flag: stopping this play never ends the one it follows or the
        # one armed to follow it.
        stop = asyncio.Event()
        play = current.play = asyncio.ensure_future(
            self._player.play(
                path,
                item.media.duration_s,
                self.starter(current),
                start_at,
                stop=stop,
                after=after,
            )
        )
        current.stopper = stop.set
        await self.supervise(current, play)
        try:
            return play.result()
        except Exception as exc:  # a player bug becomes evidence, not a dead agent
            log.exception("%s: player failed on %s", self._device_id, item.item_id)
            return PlayResult(0.0, False, f"player error: {type(exc).__name__}: {exc}")

    async def supervise(self, current: InHand, work: asyncio.Future[Any]) -> None:
        """Wait for ``work`` (a play or a relay); preempt it when an emergency is due."""
        ticker = asyncio.ensure_future(self._tick_progress(current))
        try:
            await self._supervise_until_done(current, work)
        finally:
            ticker.cancel()

    async def _supervise_until_done(self, current: InHand, work: asyncio.Future[Any]) -> None:
        item = current.pending.item
        lead = timedelta(seconds=self._player.lead_s)
        declined: datetime | None = None  # the next item's instant, when it may not follow
        while not work.done():
            waits: list[Awaitable[Any]] = [self._wake.wait()]
            emergency_at = self._queue.next_due_at(emergencies_only=True)
            if emergency_at is not None and not current.pending.is_emergency:
                waits.append(self._clock.sleep_until(emergency_at - lead))
            follow_at = self._follow_at(current, declined)
            if follow_at is not None:
                waits.append(self._clock.sleep_until(follow_at))
            await wait_any([work], *waits)
            self._wake.clear()
            if work.done() or current.interrupt is not None:
                continue
            emergency = self._queue.emergency_due(self._clock.now() + lead)
            if emergency is not None and not current.pending.is_emergency:
                reason = f"preempted by emergency item {emergency.item_id}"
                self._request_stop(item.item_id, Outcome.PREEMPTED, reason)
                continue
            if follow_at is not None and self._clock.now() >= follow_at:
                if not self._stopping():
                    self._handover.arm(current, self._follow)
                if self._handover.next is None:
                    declined = self._queue.next_due_at()  # not again for the same item

    def _follow_at(self, current: InHand, declined: datetime | None) -> datetime | None:
        """When to prepare the item due next to follow ``current`` back to back (None:
        nothing to follow, or it was declined); deferred work waits from then on."""
        if current is not self._current() or self._stopping():
            return None
        return self._handover.follow_at(current, declined)

    def starter(self, current: InHand) -> Callable[[datetime], None]:
        """The callback the player (or relay) calls at ``current``'s first sample."""

        def started(at: datetime) -> None:
            current.actual_start = at
            expect_start(self._clock, self._device_id, None, 0.0)  # deferred work may run
            self._journal.sounding_later(current.pending.item_id, at)
            self._on_started(current.pending.item_id, at)
            self._wake.set()  # its supervisor now knows when it ends: the next may follow

        return started

    async def _tick_progress(self, current: InHand) -> None:
        """Every ``progress_s`` while the item sounds: its journal row says it still does."""
        while True:
            await self._clock.sleep(self._progress_s)
            if current.actual_start is not None:
                self._journal.progress_later(current.pending.item_id, self._clock.now())
