"""A relay item's turn in the play loop: on air, suspended, rejoined, recorded once.

Apart from ``playback`` because a relay keeps its own rules there (docs/priorities.md):
an EMERGENCY does not end it but *suspends* it, and it rejoins its live stream after
the emergency while its window is open, recorded as **one** event with the emergency
as a gap; a window that closed meanwhile records it PREEMPTED. A relay stopped before
any sound went out is SKIPPED like any play; one that left the plan, or was on air
when the agent stopped, is recorded with what it relayed. What happens on air
(fallback, reconnects, the books) is ``relay`` and ``relay_books``; the streams kept
across an emergency are ``relay_desk``'s, the event's facts ``relay_outcome``'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from edge_agent.evidence import PlayFacts
from edge_agent.handover import InHand
from edge_agent.play_journal import PlayJournal
from edge_agent.relay import RelayRun
from edge_agent.relay_desk import RelayDesk
from edge_agent.relay_outcome import relay_facts
from edge_agent.schedule import Pending, PlayQueue
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Outcome, PlanItem

log = logging.getLogger(__name__)


class RelayTurns:
    """Plays and records the relay items of one agent's play loop."""

    def __init__(
        self,
        *,
        device_id: str,
        queue: PlayQueue,
        relays: RelayDesk,
        journal: PlayJournal,
        clock: Clock,
        volume: Callable[[], int | None],
        record_played: Callable[[PlanItem, PlayFacts], None],
        record_unstarted: Callable[[InHand], None],
        starter: Callable[[InHand], Callable[[datetime], None]],
        supervise: Callable[[InHand, asyncio.Future[Any]], Awaitable[None]],
    ) -> None:
        self._device_id = device_id
        self._queue = queue
        self._relays = relays
        self._journal = journal
        self._clock = clock
        self._volume = volume
        self._record_played = record_played
        self._record_unstarted = record_unstarted
        self._starter = starter
        self._supervise = supervise

    async def play(self, current: InHand) -> None:
        """A relay item: on air until its window ends; an emergency suspends it, and it
        rejoins the stream afterwards if the window is still open (docs/priorities.md)."""
        pending = current.pending
        run = self._relays.run_for(pending.item)
        if run.suspended_by is not None and not run.window_open:
            # The window closed during the emergency: nothing left to rejoin.
            self.record(pending, run, (Outcome.PREEMPTED, run.suspended_by))
            return
        if not run.journaled:
            start = max(self._clock.now(), run.window_start)
            self._journal.start(pending.item, start, pending.plan_version)
            run.journaled = True
        run.on_started = self._starter(current)
        current.actual_start = run.tally.actual_start
        current.playing = True
        current.stopper = run.stop
        task = asyncio.ensure_future(run.run())
        await self._supervise(current, task)
        try:
            task.result()
        except Exception as exc:  # a relay bug becomes evidence, not a dead agent
            log.exception("%s: relay %s failed", self._device_id, pending.item_id)
            run.tally.note(f"agent error: {type(exc).__name__}: {exc}")
        interrupt = current.interrupt
        if interrupt is not None and interrupt[0] is Outcome.PREEMPTED and run.window_open:
            self._relays.suspend(run, interrupt[1])
            self._queue.add(replace(pending, expires_at=None))  # it did start: no expiry
            return
        if interrupt is not None and not run.started:
            self._relays.release(pending.item_id)
            self._journal.forget(pending.item_id)
            self._record_unstarted(current)
            return
        self.record(pending, run, interrupt)

    def record(
        self, pending: Pending, run: RelayRun, interrupt: tuple[Outcome, str] | None
    ) -> None:
        """The relay's one event, from its books (off the timing path), its stream closed."""
        facts = relay_facts(run, interrupt, pending.plan_version, self._volume())
        self._relays.release(pending.item_id)
        self._journal.end(pending.item_id, facts)
        self._record_played(pending.item, facts)

    def dropped(self, pending: Pending) -> None:
        """``pending`` left the plan: close its stream; a suspended relay is recorded."""
        run = self._relays.take_suspended(pending.item_id)
        if run is not None and run.started:
            self.record(pending, run, (Outcome.PREEMPTED, run.suspended_by or ""))
        self._relays.release(pending.item_id)

    def close(self, reason: str) -> None:
        """The loop ends: relays an emergency suspended have been on air, so their
        evidence is due now; then every stream closes."""
        for item_id in self._relays.suspended_ids():
            pending = self._queue.remove(item_id)
            run = self._relays.take_suspended(item_id)
            if pending is not None and run is not None and run.started:
                self.record(pending, run, (Outcome.PARTIAL, reason))
        self._relays.close()
