"""Playback: takes due items off the queue and plays them, one at a time.

Priority rule (docs/priorities.md): an EMERGENCY item preempts whatever
non-emergency item is playing; the interrupted item ends PREEMPTED with the seconds
it played and is **not** resumed (replaying half a bulletin after a flood warning
helps no one). A relay is the exception: it rejoins its stream (``relay_turn``).
Every other item waits its turn in planned-start order (``schedule``), late if need
be: only an item the agent *learns of* too late is skipped, never one delayed by the
items before it. A clip not cached yet is waited for (``media_wait``).

Outcomes: COMPLETED, PREEMPTED, PARTIAL, FAILED as ``play_outcome`` decides them
from what the player reports; SKIPPED (stopped before its first sample) here.

A play is *prepared* ``prepare_s`` plus the amplifier's warm-up before its planned
start: media checked, "play started" journal row written (with the instant the
sound is due), relay switched on; the player then holds the first sample until the
planned instant, so a fleet of hundreds in one process still starts on time. An item
cut before its first sample is not "played": preempted, it goes back to the queue;
stopped, it is SKIPPED. Back to back, the next item is armed while the one before
sounds (``handover``). A play once handed to the player, and its watch until it
ends (preemption, back to back, the journal's ticks), is ``on_air``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from edge_agent.aio import wait_any
from edge_agent.evidence import PlayFacts
from edge_agent.handover import Handover, InHand
from edge_agent.media_cache import MediaCache
from edge_agent.media_wait import MediaWait
from edge_agent.on_air import PROGRESS_S, OnAir
from edge_agent.outbox import Outbox
from edge_agent.play_journal import PlayJournal
from edge_agent.play_outcome import played_facts
from edge_agent.player import Player, PlayResult
from edge_agent.relay_desk import RelayDesk
from edge_agent.relay_turn import RelayTurns
from edge_agent.schedule import Pending, PlayQueue
from edge_agent.timing import expect_start
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Outcome, PlanItem

log = logging.getLogger(__name__)

Recorder = Callable[[PlanItem, PlayFacts], None]
"""Turns what happened to an item into a stored, published event."""

SHUTDOWN_REASON = "agent shut down during playback"


class Playback:
    """The play loop of one agent."""

    def __init__(
        self,
        *,
        device_id: str,
        queue: PlayQueue,
        player: Player,
        media: MediaCache,
        outbox: Outbox,
        clock: Clock,
        media_wait_s: float,
        prepare_s: float,
        record: Recorder,
        record_played: Recorder | None = None,
        on_started: Callable[[str, datetime], None],
        volume: Callable[[], int | None],
        relays: RelayDesk,
        progress_s: float = PROGRESS_S,
    ) -> None:
        self._device_id = device_id
        self._queue = queue
        self._player = player
        self._journal = PlayJournal(device_id, outbox, clock)
        self._clock = clock
        self._prepare = timedelta(seconds=prepare_s)
        self._record = record
        # After a play: signed, stored and published off the timing path (``timing``).
        self._record_played = record_played or record
        self._volume = volume
        self._relays = relays
        self._wake = asyncio.Event()
        self._current: InHand | None = None
        # The item armed to follow the current one back to back, and its task.
        self._handover = Handover(
            device_id=device_id, queue=queue, media=media, clock=clock, ahead=self._ahead
        )
        self._stopping = False
        self._on_air = OnAir(
            device_id=device_id,
            queue=queue,
            player=player,
            journal=self._journal,
            clock=clock,
            wake=self._wake,
            handover=self._handover,
            progress_s=progress_s,
            on_started=on_started,
            current=lambda: self._current,
            stopping=lambda: self._stopping,
            request_stop=self.request_stop,
            follow=self._guarded,
        )
        self._media_wait = MediaWait(
            media=media,
            queue=queue,
            player=player,
            clock=clock,
            wait_s=media_wait_s,
            wake=self._wake,
            stopping=lambda: self._stopping,
            record=record,
            record_unstarted=self._record_unstarted,
        )
        self._relay_turns = RelayTurns(
            device_id=device_id,
            queue=queue,
            relays=relays,
            journal=self._journal,
            clock=clock,
            volume=volume,
            record_played=self._record_played,
            record_unstarted=self._record_unstarted,
            starter=self._on_air.starter,
            supervise=self._on_air.supervise,
        )

    # what the agent asks -----------------------------------------------------------

    def wake(self) -> None:
        """Something changed (plan, command): look at the queue again."""
        self._wake.set()

    def _in_hand(self) -> list[InHand]:
        """The current item and the one armed to follow it, if any."""
        return [c for c in (self._current, self._handover.next) if c is not None]

    def _find(self, item_id: str) -> InHand | None:
        return next((c for c in self._in_hand() if c.pending.item_id == item_id), None)

    def is_current(self, item_id: str) -> bool:
        """True while ``item_id`` is being fetched for, played, or armed to follow."""
        return self._find(item_id) is not None

    @property
    def playing_item_id(self) -> str | None:
        """The item sounding now, if any (the later one, at a handover)."""
        sounding = [c for c in self._in_hand() if c.actual_start is not None]
        return sounding[-1].pending.item_id if sounding else None

    @property
    def media_in_use(self) -> set[str]:
        """The media of the items in hand (never evicted while in use)."""
        return {c.pending.item.media.sha256 for c in self._in_hand()}

    def request_stop(self, item_id: str, outcome: Outcome, reason: str) -> bool:
        """End ``item_id`` if it is in hand; False when it is not."""
        current = self._find(item_id)
        if current is None:
            return False
        if current.interrupt is None:
            current.interrupt = (outcome, reason)
        if current.stopper is not None:
            current.stopper()
        self._wake.set()
        return True

    def enqueue(self, pending: Pending) -> None:
        """Queue an item (a relay's stream will connect ``prebuffer_s`` before it)."""
        self._queue.add(pending)
        self._relays.watch(pending.item)

    def stop_queued(self, item_id: str, text: str) -> bool:
        """A stop for a queued item: SKIPPED, or PARTIAL for a relay an emergency
        suspended (it has been on air). False when ``item_id`` is not queued."""
        pending = self._queue.remove(item_id)
        if pending is None:
            return False
        run = self._relays.take_suspended(item_id)
        if run is not None and run.started:
            self._relay_turns.record(pending, run, (Outcome.PARTIAL, text))
        else:
            facts = PlayFacts(
                Outcome.SKIPPED, f"{text} before start", plan_version=pending.plan_version
            )
            self._relays.release(item_id)
            self._record(pending.item, facts)
        self._wake.set()
        return True

    def dropped(self, pending: Pending) -> None:
        """``pending`` left the plan: close its stream; a suspended relay is recorded."""
        self._relay_turns.dropped(pending)

    def shutdown(self) -> None:
        """Make ``run`` return: a play in progress ends and is recorded PARTIAL."""
        self._stopping = True
        for current in self._in_hand():
            if current.playing:
                self.request_stop(current.pending.item_id, Outcome.PARTIAL, SHUTDOWN_REASON)
        self._wake.set()

    # the loop --------------------------------------------------------------------

    async def run(self) -> None:
        """Play due items until ``shutdown``."""
        try:
            await self._loop()
            if self._handover.task is not None:
                # Armed back to back and stopped with the rest: it records its end too.
                await self._follow()
        finally:
            self._handover.cancel()  # run itself cancelled (an agent aborting)
            self._relay_turns.close(SHUTDOWN_REASON)

    def _ahead(self) -> timedelta:
        """How early a play is prepared (warm-up and margin); the player holds the
        first sample until its instant."""
        return timedelta(seconds=self._player.lead_s) + self._prepare

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            if self._handover.task is not None:
                await self._follow()
                continue
            ahead = self._ahead()
            # From its preparation to its start, the next play has the loop first.
            expect_start(
                self._clock, self._device_id, self._queue.next_due_at(), ahead.total_seconds()
            )
            pending = self._queue.next_due(self._clock.now() + ahead)
            if pending is not None:
                self._queue.remove(pending.item_id)
                current = self._current = InHand(pending)
                try:
                    await self._guarded(current)
                finally:
                    self._current = None
                continue
            until = self._queue.next_due_at()
            if until is None:
                await self._wake.wait()
            else:
                await wait_any([], self._wake.wait(), self._clock.sleep_until(until - ahead))

    async def _follow(self) -> None:
        """The item armed back to back becomes the current one (it may be sounding)."""
        task, self._current = self._handover.take()
        self._wake.set()  # its supervisor may now prepare the one after it
        try:
            if task is not None:
                await task
        finally:
            self._current = None

    async def _guarded(
        self,
        current: InHand,
        start_at: datetime | None = None,
        after: asyncio.Future[PlayResult] | None = None,
    ) -> None:
        pending = current.pending
        try:
            await self._play(current, start_at, after)
        except Exception as exc:  # one bad item must not end all playback
            log.exception("%s: playing %s failed", self._device_id, pending.item_id)
            facts = PlayFacts(
                Outcome.FAILED, f"agent error: {exc}", plan_version=pending.plan_version
            )
            self._record(pending.item, facts)

    async def _play(
        self,
        current: InHand,
        start_at: datetime | None = None,
        after: asyncio.Future[PlayResult] | None = None,
    ) -> None:
        pending = current.pending
        item = pending.item
        if pending.expires_at is not None and self._clock.now() > pending.expires_at:
            # CAP's "expires": an order not started by then is no longer in effect.
            when = pending.expires_at.isoformat(timespec="seconds")
            facts = PlayFacts(Outcome.SKIPPED, f"expired at {when} before it could start")
            self._relays.release(item.item_id)
            self._record(item, facts)
            return
        if item.relay is not None:
            await self._relay_turns.play(current)
            return
        path = await self._media_wait.path_for(current)
        if path is None:
            return
        if current.interrupt is not None or self._stopping:
            self._record_unstarted(current)
            return
        result = await self._on_air.sound(current, path, start_at, after)
        if current.actual_start is None and current.interrupt is not None:
            self._journal.forget(item.item_id)
            if current.interrupt[0] is Outcome.PREEMPTED:
                self._queue.add(pending)  # not started: it waits its turn again
            else:
                self._record_unstarted(current)
            return
        facts = played_facts(
            result,
            current.interrupt,
            actual_start=current.actual_start,
            plan_version=pending.plan_version,
            volume=self._volume(),
        )
        self._journal.end(item.item_id, facts)
        self._record_played(item, facts)

    def _record_unstarted(self, current: InHand) -> None:
        if current.interrupt is None:
            # Shutting down: the plan (or the queued PlayNow) is on disk, and the next
            # start plays it late or records why it could not.
            return
        _, reason = current.interrupt
        facts = PlayFacts(
            Outcome.SKIPPED, f"{reason} before start", plan_version=current.pending.plan_version
        )
        self._record(current.pending.item, facts)

    def flush_deferred(self) -> None:
        """Write now what waits off the timing path (journal notes, events): stopping."""
        self._journal.flush()

    def discard_deferred(self) -> None:
        """Forget what waits off the timing path, as a crash would (the journal keeps
        the play; the next start reports it)."""
        self._journal.discard()
