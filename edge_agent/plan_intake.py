"""The plan in force: accepting a newer one, queueing its items, fetching their media.

Apart from ``core`` because it holds the plan rules, which need none of the agent's
wiring: a plan is accepted only if its version is newer, saved atomically
(``plan_store``), its media prefetched and verified, media no queued item needs
evicted. An item learnt of more than ``late_start_grace_s`` after its planned start
(or found so at start-up) is SKIPPED with the reason; within the grace it plays late;
a relay may join any time before its window closes. An item id plays at most once,
across restarts (``recorder``). A "now" waiting its turn when the agent stopped is
queued again from the outbox at the next start, under the same rule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from edge_agent.evidence import PlayFacts
from edge_agent.media_cache import MediaCache
from edge_agent.outbox import Outbox
from edge_agent.plan_store import PlanStore
from edge_agent.playback import Playback
from edge_agent.recorder import PlayRecorder
from edge_agent.schedule import Pending, PlayQueue
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import MediaRef, Outcome, Plan, PlanItem

log = logging.getLogger(__name__)


class PlanIntake:
    """One agent's plan in force and what it queues from it."""

    def __init__(
        self,
        *,
        device_id: str,
        clock: Clock,
        late_start_grace_s: float,
        plans: PlanStore,
        outbox: Outbox,
        queue: PlayQueue,
        media: MediaCache,
        playback: Playback,
        recorder: PlayRecorder,
        spawn: Callable[[Awaitable[Any], str], asyncio.Task[Any]],
        listen_to_ward: Callable[[str | None], None],
        publish_state: Callable[[], None],
    ) -> None:
        self._device_id = device_id
        self._clock = clock
        self._grace_s = late_start_grace_s
        self._plans = plans
        self._outbox = outbox
        self._queue = queue
        self._media = media
        self._playback = playback
        self._recorder = recorder
        self._spawn = spawn
        self._listen_to_ward = listen_to_ward
        self._publish_state = publish_state
        self.plan: Plan | None = None

    @property
    def version(self) -> int | None:
        """Version of the plan in force, None before the first one."""
        return self.plan.version if self.plan else None

    def load(self) -> None:
        """At start: the saved plan (if it is this device's) and the queued "nows"."""
        plan = self._plans.load()
        if plan is not None and plan.device_id == self._device_id:
            self.plan = plan
            self._schedule(plan, at_startup=True)
        self._restore_queued_plays()

    def accept(self, plan: Plan) -> None:
        """A verified plan: in force if newer, saved, queued, its media fetched."""
        current = self.version
        if current is not None and plan.version <= current:
            level = logging.DEBUG if plan.version == current else logging.WARNING
            log.log(
                level, "%s: plan v%d ignored, v%d in force", self._device_id, plan.version, current
            )
            return
        try:
            self._plans.save(plan)
        except OSError as exc:
            # Play it anyway: the broker keeps it retained, so a restart fetches it again.
            log.error("%s: could not save plan v%d: %s", self._device_id, plan.version, exc)
        self.plan = plan
        log.info("%s: plan v%d accepted (%d items)", self._device_id, plan.version, len(plan.items))
        self._listen_to_ward(plan.ward_code)  # before the state below says so
        self._schedule(plan, at_startup=False)
        self._evict()
        self.prefetch()
        self._publish_state()
        self._playback.wake()

    def _schedule(self, plan: Plan, *, at_startup: bool) -> None:
        now = self._clock.now()
        grace = self._grace_s
        for dropped in self._queue.drop_plan_items_except(i.item_id for i in plan.items):
            log.info("%s: %s no longer planned", self._device_id, dropped.item_id)
            self._playback.dropped(dropped)
        for item in sorted(plan.items, key=lambda i: i.planned_start):
            if item.item_id in self._recorder.done or self._playback.is_current(item.item_id):
                continue
            known = item.item_id in self._queue
            late_s = (now - item.planned_start).total_seconds()
            if not known and late_s > _late_limit_s(item, grace):
                reason = (
                    "agent was down at planned start"
                    if at_startup
                    else f"missed start: agent learnt of it {late_s:.0f} s late"
                )
                facts = PlayFacts(Outcome.SKIPPED, reason, plan_version=plan.version)
                self._recorder.record(item, facts)
                continue
            self._playback.enqueue(Pending(item, item.planned_start, plan.version))

    def _restore_queued_plays(self) -> None:
        now = self._clock.now()
        for queued in self._outbox.queued_plays():
            item = PlanItem.model_validate_json(queued.item_json)
            if item.item_id in self._recorder.done:
                continue
            late_s = (now - queued.due_at).total_seconds()
            if late_s > _late_limit_s(item, self._grace_s):
                facts = PlayFacts(Outcome.SKIPPED, "agent was down at planned start")
                self._recorder.record(item, facts)
            else:
                self._playback.enqueue(Pending(item, queued.due_at, None, queued.expires_at))

    def prefetch(self) -> None:
        """Fetch every queued item's media (a few in parallel), then say what is held."""
        media = [p.item.media for p in self._queue]
        if media:
            self._spawn(self._prefetch_and_report(media), "prefetch")

    async def _prefetch_and_report(self, media: list[MediaRef]) -> None:
        failed = await self._media.prefetch(media)
        if failed:
            log.warning("%s: %d media files not fetched yet", self._device_id, failed)
        self._publish_state()  # the controller sees what this device now holds

    def _evict(self) -> None:
        keep = self._queue.media_sha256s() | self._playback.media_in_use
        for name in self._media.evict(keep):
            log.info("%s: evicted %s", self._device_id, name)


def _late_limit_s(item: PlanItem, grace_s: float) -> float:
    """How late an item may be learnt of and still start: a relay joins its live
    stream any time before its window closes; anything else within the grace."""
    if item.relay is not None:
        return max(grace_s, item.relay.window_s)
    return grace_s
