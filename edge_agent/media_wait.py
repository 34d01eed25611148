"""The media wait: an item due whose clip is not cached yet waits for its download.

Apart from ``playback`` because it is the one path where a play waits on the network,
with its own rules: the wait lasts at most ``late_start_grace_s`` (then the item is
FAILED "media not ready in time"), a stop or a shutdown ends it (SKIPPED, or nothing
recorded when stopping), and an EMERGENCY due meanwhile goes first: the waiting item
goes back to the queue (the shared download goes on) and takes its turn again. A clip
that cannot be had (wrong size or sha256, every attempt failed) is FAILED "media
unavailable". A cached clip does not wait at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from edge_agent.aio import wait_any
from edge_agent.evidence import PlayFacts
from edge_agent.handover import InHand
from edge_agent.media_cache import MediaCache, MediaUnavailable
from edge_agent.play_outcome import failed
from edge_agent.player import Player
from edge_agent.schedule import PlayQueue
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import PlanItem


class MediaWait:
    """Finds (or waits for) the verified file of the item a play loop holds."""

    def __init__(
        self,
        *,
        media: MediaCache,
        queue: PlayQueue,
        player: Player,
        clock: Clock,
        wait_s: float,
        wake: asyncio.Event,
        stopping: Callable[[], bool],
        record: Callable[[PlanItem, PlayFacts], None],
        record_unstarted: Callable[[InHand], None],
    ) -> None:
        self._media = media
        self._queue = queue
        self._player = player
        self._clock = clock
        self._wait = timedelta(seconds=wait_s)
        self._wake = wake
        self._stopping = stopping
        self._record = record
        self._record_unstarted = record_unstarted

    async def path_for(self, current: InHand) -> Path | None:
        """The verified file, or None once the item was recorded (or put back)."""
        item = current.pending.item
        if self._media.has(item.media):
            return self._media.path_for(item.media)
        fetch = asyncio.ensure_future(self._media.ensure(item.media))
        deadline = self._clock.now() + self._wait
        lead = timedelta(seconds=self._player.lead_s)
        while not fetch.done():
            waits = [self._wake.wait(), self._clock.sleep_until(deadline)]
            emergency_at = self._queue.next_due_at(emergencies_only=True)
            if emergency_at is not None and not current.pending.is_emergency:
                waits.append(self._clock.sleep_until(emergency_at - lead))
            await wait_any([fetch], *waits)
            self._wake.clear()
            if fetch.done():
                break
            if current.interrupt is not None or self._stopping():
                fetch.cancel()
                self._record_unstarted(current)
                return None
            emergency = self._queue.emergency_due(self._clock.now() + lead)
            if emergency is not None and not current.pending.is_emergency:
                fetch.cancel()  # the shared download goes on; this item waits its turn again
                self._queue.add(current.pending)
                return None
            if self._clock.now() >= deadline:
                fetch.cancel()
                self._record(item, failed("media not ready in time", current.pending.plan_version))
                return None
        try:
            return fetch.result()
        except MediaUnavailable as exc:
            reason = f"media unavailable: {exc}"
            self._record(item, failed(reason, current.pending.plan_version))
            return None
