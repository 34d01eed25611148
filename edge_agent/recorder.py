"""The agent's record of each play: one final event per item id, signed and stored.

Apart from ``core`` because it is the one door every outcome goes through (played,
skipped, failed, cut by a crash) and it keeps the rule a reader must not break: an
item id gets **one** final event, whichever path tries to write a second, across
restarts (``done`` starts from the outbox's events).

After a play the item is marked done at once (it never plays twice), but its event
(built, signed, stored, published) is a deferred job (``timing``): it runs after any
start due now, off the timing path. Everything else is recorded at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from edge_agent.evidence import EvidenceLog, PlayFacts
from edge_agent.outbox import Outbox
from edge_agent.play_journal import interrupted_play_facts
from edge_agent.stats import AgentStats
from edge_agent.timing import deferred
from edge_agent.uplink import Uplink
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Outcome, PlanItem, PlaybackEvent

log = logging.getLogger(__name__)


class PlayRecorder:
    """Turns what happened to an item into its one stored, published event."""

    def __init__(
        self,
        *,
        device_id: str,
        clock: Clock,
        outbox: Outbox,
        evidence: EvidenceLog,
        uplink: Uplink,
        stats: AgentStats,
        volume: Callable[[], int | None],
        on_recorded: Callable[[PlaybackEvent], None],
    ) -> None:
        self._device_id = device_id
        self._clock = clock
        self._outbox = outbox
        self._evidence = evidence
        self._uplink = uplink
        self._stats = stats
        self._volume = volume
        self._on_recorded = on_recorded
        self.done: set[str] = set()
        """Item ids that have their final event (or have it waiting off the timing path)."""

    def recover(self) -> None:
        """At start: the items already recorded, and an event for each play a crash cut
        (from its journal row: the real outcome if it had ended, else FAILED)."""
        self.done = self._outbox.done_item_ids()
        for row in self._outbox.journal():
            item = PlanItem.model_validate_json(row.item_json)
            self.record(item, interrupted_play_facts(row))

    def record(self, item: PlanItem, facts: PlayFacts) -> None:
        """Record ``item``'s outcome now (once per item id)."""
        claimed = self._claim(item, facts)
        if claimed is not None:
            self.write_event(item, claimed)

    def record_played(self, item: PlanItem, facts: PlayFacts) -> None:
        """After a play: the item is done at once (it never plays twice), its event is
        signed, stored and published off the timing path, after any start due now."""
        claimed = self._claim(item, facts)
        if claimed is not None:
            job = partial(self.write_event, item, claimed)
            deferred(self._clock).add(self._device_id, job)

    def _claim(self, item: PlanItem, facts: PlayFacts) -> PlayFacts | None:
        """Mark ``item`` done; the facts to record, None if it already has its event."""
        if item.item_id in self.done:
            # One final event per item id, whatever path tries to write a second.
            log.warning(
                "%s: %s already has its event; not recording %s",
                self._device_id,
                item.item_id,
                facts.outcome,
            )
            return None
        self.done.add(item.item_id)
        if facts.volume is None and facts.outcome is not Outcome.SKIPPED:
            facts = replace(facts, volume=self._volume())
        return facts

    def write_event(self, item: PlanItem, facts: PlayFacts) -> None:
        """Build, sign and store ``item``'s event, then publish it (and what waits)."""
        event, ready = self._evidence.record(item, facts)
        self._stats.events_recorded += 1
        log.info(
            "%s: %s %s seq %d%s",
            self._device_id,
            item.item_id,
            event.outcome,
            event.seq,
            f" ({event.reason})" if event.reason else "",
        )
        self._on_recorded(event)
        self._uplink.send_events(ready)
