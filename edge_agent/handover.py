"""Back to back: the next item armed while the one before still sounds.

While an item sounds, the next one due ``prepare_s`` (plus the amplifier's warm-up)
before its instant is prepared beside it: media checked, journal row written, its
play handed to the player armed for max(its planned instant, the last sample of the
one sounding). So its first sample does not wait for the loop to notice the end of
the one before and record it (a thousand agents on one loop did that one after
another: the last started 0.7 s late). Only a media item follows a media item so;
relays, emergencies and an item whose media is not yet cached take the usual way,
after the current one ends (``playback``).

``InHand`` is an item being fetched or played (or armed to follow); ``Handover``
holds the one armed to follow and its task, and says when to prepare it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from edge_agent.media_cache import MediaCache
from edge_agent.player import PlayResult
from edge_agent.schedule import Pending, PlayQueue
from edge_agent.timing import expect_start
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Outcome

Follower = Callable[["InHand", datetime, "asyncio.Future[PlayResult] | None"], Awaitable[None]]
"""Plays an armed item at an instant, after the play it follows."""


@dataclass
class InHand:
    """An item being fetched or played right now (or armed to follow it)."""

    pending: Pending
    playing: bool = False
    actual_start: datetime | None = None
    interrupt: tuple[Outcome, str] | None = None
    stopper: Callable[[], None] | None = None
    play: asyncio.Future[PlayResult] | None = None  # the player's work, a media item's

    def sound_ends_at(self) -> datetime | None:
        """When its last sample goes out, if it sounds and plays to the end."""
        if self.actual_start is None or self.play is None or self.interrupt is not None:
            return None
        return self.actual_start + timedelta(seconds=self.pending.item.media.duration_s)


class Handover:
    """The item armed to follow the current one of one agent, and its task."""

    def __init__(
        self,
        *,
        device_id: str,
        queue: PlayQueue,
        media: MediaCache,
        clock: Clock,
        ahead: Callable[[], timedelta],
    ) -> None:
        self._device_id = device_id
        self._queue = queue
        self._media = media
        self._clock = clock
        self._ahead = ahead
        self.next: InHand | None = None
        self.task: asyncio.Future[None] | None = None

    def take(self) -> tuple[asyncio.Future[None] | None, InHand | None]:
        """The armed item and its task, now the current one's (none armed after)."""
        taken = self.task, self.next
        self.task, self.next = None, None
        return taken

    def cancel(self) -> None:
        """Cancel the armed play's task (its supervisor is cancelled: an agent aborting)."""
        if self.task is not None:
            self.task.cancel()

    def follow_at(self, current: InHand, declined: datetime | None) -> datetime | None:
        """When to prepare the item due next to follow ``current`` (None: nothing to
        follow, or it was declined); deferred work waits from then on."""
        if self.next is not None:
            return None
        ends_at = current.sound_ends_at()
        due = self._queue.next_due_at()
        if ends_at is None or due is None or due == declined:
            return None
        ahead = self._ahead()
        start = max(due, ends_at)
        expect_start(self._clock, self._device_id, start, ahead.total_seconds())
        return start - ahead

    def arm(self, current: InHand, play: Follower) -> None:
        """Arm the next item to follow ``current`` back to back, if it may (see the
        module docstring); otherwise it takes the usual way after ``current`` ends."""
        ends_at = current.sound_ends_at()
        if ends_at is None or self.next is not None:
            return
        now = self._clock.now()
        pending = self._queue.next_due(now + self._ahead())
        if pending is None or pending.is_emergency or pending.item.relay is not None:
            return
        if not self._media.has(pending.item.media):
            return
        start_at = max(pending.due_at, ends_at)
        if start_at <= now:
            return  # already due: nothing to win by arming it
        self._queue.remove(pending.item_id)
        nxt = self.next = InHand(pending)
        self.task = asyncio.ensure_future(play(nxt, start_at, current.play))
