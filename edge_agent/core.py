"""The edge agent: keeps its plan, fetches and verifies audio, plays on time, confirms.

One ``EdgeAgent`` is one device. It is plain asyncio with every dependency injected
(transport, player, clock, media fetcher, hardware), so many agents share one event
loop (``AgentFleet``) and the unit tests drive one with a FakeClock.

What arrives from the controller (plan, command, ack) is verified against the
controller's key first; anything bad is logged with its reason and ignored. A
threaded transport calls back on its own thread, so callbacks only hop onto the
loop (``call_soon_threadsafe``); all state is touched on the loop alone.

Rules it follows:

- a plan is accepted only if its version is newer; it is saved atomically, its media
  prefetched and verified, unneeded media evicted;
- an item learnt of more than ``late_start_grace_s`` after its planned start (or
  found so at start-up) is SKIPPED with the reason; within the grace it plays late;
- an item id plays at most once, across restarts;
- a relay item may join late, any time before its window closes (``relay``);
- a command is refused (``security``) when delivered retained, not addressed to this
  device, issued too far in its future, expired or already seen (ids persisted);
  each refusal, and each message that fails verification, goes to the security log
  and is reported to the controller until acknowledged; StopItem ends
  the item as PARTIAL "stopped by controller" (SKIPPED if it had not started), or
  in its own words for an emergency's "cancelled: …" / "updated by …"; a PlayNow
  not started by its command's expiry is SKIPPED;
- playing, preemption and outcomes: see ``playback`` and docs/priorities.md (an
  EMERGENCY preempts, the interrupted item is PREEMPTED and **not** resumed; a relay
  rejoins its stream);
- the retained state (plan version, cached media, pending events, device time) goes
  out on connect, after plans and prefetches, and every ``state_interval_s``;
- a play cut by a crash is reported at the next start as FAILED "agent restarted
  during playback", from its journal row, with the seconds it had sounded;
- every event is stored (``evidence``, ``outbox``) before it is published, resent on
  every reconnect and every ``resend_interval_s`` until acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import zlib
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from edge_agent import AGENT_VERSION
from edge_agent.config import AgentConfig
from edge_agent.evidence import EvidenceLog, PlayFacts
from edge_agent.inbox import WardOpenings, open_inbound
from edge_agent.logs import bind_log_context, log_context
from edge_agent.media_cache import MediaCache, MediaFetcher
from edge_agent.outbox import Outbox, QueuedPlay, StoredEvent
from edge_agent.pcm import PacedSink, PcmSink
from edge_agent.plan_store import PlanStore
from edge_agent.play_journal import interrupted_play_facts
from edge_agent.playback import Playback
from edge_agent.player import AmplifierGate, Player
from edge_agent.relay import RelayDesk
from edge_agent.schedule import Pending, PlayQueue
from edge_agent.security import (
    EVENT_REFUSED,
    REPLAYED,
    Refused,
    SecurityLog,
    check_command,
    forget_before,
)
from edge_agent.stream import FfmpegStreamOpener, StreamOpener
from edge_agent.timing import deferred
from edge_agent.uplink import Uplink
from firmware_stubs.hardware import Hardware
from wardcast_protocol.channels import AGENT_INBOUND
from wardcast_protocol.clock import Clock, SystemClock
from wardcast_protocol.envelope import RejectedMessage
from wardcast_protocol.messages import (
    Availability,
    Command,
    DeviceState,
    EventAck,
    MediaRef,
    Outcome,
    Plan,
    PlanItem,
    PlaybackEvent,
    PlayNow,
    ResendEvents,
)
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic, parse_ward, ward_topic
from wardcast_protocol.transport import ReceivedMessage, Transport, Unsubscribe

log = logging.getLogger(__name__)

PlaybackStartedHook = Callable[[str, datetime], None]
"""Called on the agent's loop with (item_id, actual_start) when sound starts."""
EventRecordedHook = Callable[[PlaybackEvent], None]
"""Called on the agent's loop with each event once built (before it is published)."""
EventAckedHook = Callable[[str], None]
"""Called on the agent's loop with each event id the controller acknowledged."""

_FORGET_COMMANDS_EVERY = timedelta(hours=1)
_REMEMBERED_STARTS = 1000
# A held command row (a "now" starting at once) is written with its play's journal
# row; if no write comes (the play stopped or expired first), by this timer.
HELD_WRITE_S = 1.0


@dataclass
class AgentStats:
    """Counters for tests, benchmarks and the log."""

    plays_started: int = 0
    events_recorded: int = 0
    events_acked: int = 0
    duplicates_ignored: int = 0
    expired_ignored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # by reason, in the security log


class EdgeAgent:
    """One device's agent (see the module docstring for the rules it follows)."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        transport: Transport,
        player: Player,
        fetcher: MediaFetcher,
        clock: Clock | None = None,
        hardware: Hardware | None = None,
        device_key: SigningKey | None = None,
        stream_opener: StreamOpener | None = None,
        relay_sink: PcmSink | None = None,
    ) -> None:
        """Build an agent; nothing runs before ``start``.

        ``stream_opener`` and ``relay_sink`` are how relays read a live stream and
        where its audio goes: ffmpeg and a paced (simulated) sink unless given; a Pi
        passes an ``AplaySink`` (see ``wiring``).
        """
        self.config = config
        self.device_id = config.device_id
        self.transport = transport
        self.player = player
        self.hardware = hardware
        self.clock: Clock = clock or SystemClock()
        self.key = device_key or SigningKey.load_or_create(config.key_path)
        self.on_playback_started: PlaybackStartedHook | None = None
        self.on_event_recorded: EventRecordedHook | None = None
        self.on_event_acked: EventAckedHook | None = None
        # Set by a fleet: its agents open a ward's command once between them (inbox).
        self.ward_openings: WardOpenings | None = None
        self.stats = AgentStats()
        self.uplink = Uplink(self.device_id, transport, self.key, self.clock)
        self.outbox = Outbox(config.data_dir / "outbox.db", durable=config.durable_outbox)
        self.plans = PlanStore(config.data_dir)
        self.media = MediaCache(
            config.data_dir / "media",
            fetcher,
            self.clock,
            attempts=config.media_fetch_attempts,
            backoff_s=config.media_fetch_backoff_s,
            max_parallel=config.max_parallel_downloads,
        )
        self.evidence = EvidenceLog(self.outbox, self.key, self.device_id, self.clock)
        self.security = SecurityLog(
            config.data_dir / "security.db",
            self.device_id,
            self.key,
            self.clock,
            durable=config.durable_outbox,
        )
        self.plan: Plan | None = None
        self.queue = PlayQueue()
        self.connected = asyncio.Event()
        self.relays = RelayDesk(
            opener=stream_opener or FfmpegStreamOpener(),
            sink=relay_sink or PacedSink(self.clock, config.relay_rate_hz),
            player=player,
            media=self.media,
            clock=self.clock,
            # The player's own warm-up, so a relay's first sample is as punctual.
            gate=AmplifierGate(hardware, self.clock, player.lead_s, None),
            rate_hz=config.relay_rate_hz,
        )
        self.playback = Playback(
            device_id=self.device_id,
            queue=self.queue,
            player=player,
            media=self.media,
            outbox=self.outbox,
            clock=self.clock,
            media_wait_s=config.late_start_grace_s,
            prepare_s=config.start_prepare_s,
            record=self._record,
            record_played=self._record_played,
            on_started=self._started,
            volume=self._volume,
            relays=self.relays,
        )
        self._done: set[str] = set()
        self._seen_commands: set[str] = set()
        self._starts: OrderedDict[str, datetime] = OrderedDict()
        self._start_waiters: dict[str, list[asyncio.Future[datetime]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._playback_task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._running = False
        self._unsubscribe: list[Unsubscribe] = []
        # The ward broadcast channel this agent listens to (from its plan), if any.
        self._ward: str | None = None
        self._ward_unsubscribe: Unsubscribe | None = None
        self._last_forget = self.clock.now()
        self._last_state = self.clock.now()

    # lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what the last run left, load the plan, connect and start playing."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._running = True
        self._done = self.outbox.done_item_ids()
        self._recover_interrupted_plays()
        plan = self.plans.load()
        if plan is not None and plan.device_id == self.device_id:
            self.plan = plan
            self._schedule(plan, at_startup=True)
        self._restore_queued_plays()
        self._unsubscribe = [
            self.transport.add_connection_handler(self._on_connection),
            *(
                self.transport.subscribe(device_topic(self.device_id, channel), self._on_message)
                for channel in AGENT_INBOUND
            ),
        ]
        self._listen_to_ward(self.plan.ward_code if self.plan is not None else None)
        self._playback_task = self._spawn(self.playback.run(), "playback")
        self._spawn(self._housekeeping_loop(), "housekeeping")
        self._prefetch()
        self.transport.start()
        log.info(
            "%s: started (plan v%s, %d queued)", self.device_id, self.plan_version, len(self.queue)
        )

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop cleanly: end the current play (recorded PARTIAL), say offline, disconnect."""
        if not self._running:
            return
        self.playback.shutdown()
        if self._playback_task is not None:
            await asyncio.wait([self._playback_task], timeout=timeout_s)
        self.playback.flush_deferred()  # the last plays' events, before the outbox closes
        self._write_held()
        if self.uplink.connected:
            self.uplink.send(DeviceChannel.AVAILABILITY, Availability(state="offline"), retain=True)
        await self._shutdown()

    async def abort(self) -> None:
        """Stop as a crash would: cancel everything and record nothing (for fault tests)."""
        if self._running:
            await self._shutdown()

    async def _shutdown(self) -> None:
        self._running = False
        self.playback.discard_deferred()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.media.close()
        self.transport.stop()
        # Only after stopping: unsubscribing while connected would also drop the
        # broker session's subscriptions, and with them the commands it keeps for us.
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._ward_unsubscribe is not None:
            self._ward_unsubscribe()
            self._ward_unsubscribe, self._ward = None, None
        self._unsubscribe = []
        self.outbox.close()
        self.security.close()
        self.connected.clear()

    # observation -----------------------------------------------------------------

    @property
    def plan_version(self) -> int | None:
        """Version of the plan in force, None before the first one."""
        return self.plan.version if self.plan else None

    @property
    def playing_item_id(self) -> str | None:
        """The item sounding now, if any."""
        return self.playback.playing_item_id

    def pending_events(self) -> list[StoredEvent]:
        """Events stored and not yet acknowledged, in sequence order."""
        return self.outbox.unacked()

    async def wait_for_start(self, item_id: str) -> datetime:
        """Wait until ``item_id`` starts sounding; its actual start (at once if it did)."""
        if item_id in self._starts:
            return self._starts[item_id]
        future: asyncio.Future[datetime] = asyncio.get_running_loop().create_future()
        self._start_waiters.setdefault(item_id, []).append(future)
        return await future

    # inbound (any thread -> loop) --------------------------------------------------

    def _on_message(self, message: ReceivedMessage) -> None:
        self._call_soon(self._handle_message, message.topic, message.payload, message.retained)

    def _on_connection(self, up: bool) -> None:
        self._call_soon(self._handle_connection, up)

    def _call_soon(self, fn: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or not self._running:
            return
        if threading.get_ident() == self._loop_thread:
            # An asyncio transport calls back on the loop already: no wake-up pipe needed.
            loop.call_soon(self._guarded, fn, *args)
        else:
            loop.call_soon_threadsafe(self._guarded, fn, *args)

    def _guarded(self, fn: Callable[..., None], *args: object) -> None:
        # Whatever a message does, the agent must keep playing: log and carry on.
        if not self._running:
            return
        try:
            fn(*args)
        except Exception:
            log.exception("%s: handling %s failed", self.device_id, fn.__name__)

    def _handle_message(self, topic: str, payload: bytes, retained: bool = False) -> None:
        # Its log records carry message_id: the topic, then the command's id once opened.
        with log_context(message_id=topic):
            self._open_message(topic, payload, retained)

    def _open_message(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            body = open_inbound(
                topic,
                payload,
                self.device_id,
                self.config.controller_public_key,
                ward_code=self._ward,
                shared=self.ward_openings,
            )
        except RejectedMessage as exc:
            self.stats.rejected[exc.reason] += 1
            self._refuse(Refused(exc.reason, exc.detail), topic)  # logged there
            return
        if body is None:
            log.info("%s: %s cleared; keeping what we have", self.device_id, topic)
        elif isinstance(body, Plan):
            self._accept_plan(body)
        elif isinstance(body, Command) and not self._for_me(body, topic):
            return
        elif isinstance(body, Command):
            bind_log_context(message_id=body.command_id)
            self._accept_command(body, topic, retained)
        else:
            self._accept_ack(body)

    def _handle_connection(self, up: bool) -> None:
        if not up:
            self.connected.clear()
            log.info("%s: broker connection lost; playing on from the local plan", self.device_id)
            return
        self.uplink.send(DeviceChannel.AVAILABILITY, Availability(state="online"), retain=True)
        self._publish_state()
        # Everything unacknowledged, in order: the controller dedups on event id.
        self.uplink.send_events(self.outbox.unacked())
        self.uplink.send_reports(self.security.unacked())
        self.connected.set()

    def _listen_to_ward(self, ward_code: str | None) -> None:
        """Subscribe to the ward's broadcast channel the plan names (and leave the old).

        The state published next says which ward this agent listens to; only then
        does the controller address it there rather than on its own topic.
        """
        if ward_code == self._ward:
            return
        if self._ward_unsubscribe is not None:
            self._ward_unsubscribe()
            self._ward_unsubscribe = None
        self._ward = ward_code
        if ward_code is not None:
            self._ward_unsubscribe = self.transport.subscribe(
                ward_topic(ward_code), self._on_message
            )
            log.info("%s: listening to ward %s's broadcasts", self.device_id, ward_code)

    def _for_me(self, command: Command, topic: str) -> bool:
        """False for a ward-wide command that does not name this device: meant for its
        neighbours, so ignored quietly (on its own topic that would be a refusal)."""
        return self.device_id in command.device_ids or parse_ward(topic) is None

    # plan ------------------------------------------------------------------------

    def _accept_plan(self, plan: Plan) -> None:
        current = self.plan_version
        if current is not None and plan.version <= current:
            level = logging.DEBUG if plan.version == current else logging.WARNING
            log.log(
                level, "%s: plan v%d ignored, v%d in force", self.device_id, plan.version, current
            )
            return
        try:
            self.plans.save(plan)
        except OSError as exc:
            # Play it anyway: the broker keeps it retained, so a restart fetches it again.
            log.error("%s: could not save plan v%d: %s", self.device_id, plan.version, exc)
        self.plan = plan
        log.info("%s: plan v%d accepted (%d items)", self.device_id, plan.version, len(plan.items))
        self._listen_to_ward(plan.ward_code)  # before the state below says so
        self._schedule(plan, at_startup=False)
        self._evict()
        self._prefetch()
        self._publish_state()
        self.playback.wake()

    def _schedule(self, plan: Plan, *, at_startup: bool) -> None:
        now = self.clock.now()
        grace = self.config.late_start_grace_s
        for dropped in self.queue.drop_plan_items_except(i.item_id for i in plan.items):
            log.info("%s: %s no longer planned", self.device_id, dropped.item_id)
            self.playback.dropped(dropped)
        for item in sorted(plan.items, key=lambda i: i.planned_start):
            if item.item_id in self._done or self._is_current(item.item_id):
                continue
            known = item.item_id in self.queue
            late_s = (now - item.planned_start).total_seconds()
            if not known and late_s > _late_limit_s(item, grace):
                reason = (
                    "agent was down at planned start"
                    if at_startup
                    else f"missed start: agent learnt of it {late_s:.0f} s late"
                )
                self._record(item, PlayFacts(Outcome.SKIPPED, reason, plan_version=plan.version))
                continue
            self.playback.enqueue(Pending(item, item.planned_start, plan.version))

    def _restore_queued_plays(self) -> None:
        now = self.clock.now()
        for queued in self.outbox.queued_plays():
            item = PlanItem.model_validate_json(queued.item_json)
            if item.item_id in self._done:
                continue
            late_s = (now - queued.due_at).total_seconds()
            if late_s > _late_limit_s(item, self.config.late_start_grace_s):
                self._record(item, PlayFacts(Outcome.SKIPPED, "agent was down at planned start"))
            else:
                self.playback.enqueue(Pending(item, queued.due_at, None, queued.expires_at))

    def _prefetch(self) -> None:
        media = [p.item.media for p in self.queue]
        if media:
            self._spawn(self._prefetch_and_report(media), "prefetch")

    async def _prefetch_and_report(self, media: list[MediaRef]) -> None:
        failed = await self.media.prefetch(media)
        if failed:
            log.warning("%s: %d media files not fetched yet", self.device_id, failed)
        self._publish_state()  # the controller sees what this device now holds

    def _evict(self) -> None:
        keep = self.queue.media_sha256s() | self.playback.media_in_use
        for name in self.media.evict(keep):
            log.info("%s: evicted %s", self.device_id, name)

    # commands and acks -------------------------------------------------------------

    def _accept_command(self, command: Command, topic: str, retained: bool) -> None:
        now = self.clock.now()
        refused = check_command(command, self.device_id, now, retained=retained)
        if refused is not None:
            if command.expires_at < now:
                self.stats.expired_ignored += 1
            self._refuse(refused, topic, command)
            return
        order = command.order
        queued, cached = None, False
        if isinstance(order, PlayNow):
            queued = QueuedPlay(order.item.item_id, order.item.model_dump_json(), now)
            cached = self.media.has(order.item.media)
        # A "now" that starts at once (its clip here, nothing sounding, armed, fetched
        # for or overdue) has its row written with its play's journal row: one commit
        # (one fsync on a Pi) before it sounds instead of two.
        at_once = cached and not self.playback.media_in_use and self.queue.next_due(now) is None
        if not self._remember_command(command, queued, hold=at_once):
            self.stats.duplicates_ignored += 1
            why = "already seen: a replay, or the broker delivering it twice (QoS 1)"
            self._refuse(Refused(REPLAYED, why), topic, command)
            return
        if isinstance(order, PlayNow):
            item = order.item
            if item.item_id in self._done or self._is_current(item.item_id):
                log.info("%s: %s already played; not again", self.device_id, item.item_id)
                return
            self.playback.enqueue(Pending(item, now, None, command.expires_at))
            if not cached:  # cached: no task between it and its start
                self._spawn(self.media.prefetch([item.media]), "prefetch")
            self.playback.wake()
        elif isinstance(order, ResendEvents):
            wanted = [e for e in self.outbox.unacked() if order.from_seq <= e.seq <= order.to_seq]
            log.info(
                "%s: controller asked for seqs %d-%d; %d still held, resending",
                self.device_id,
                order.from_seq,
                order.to_seq,
                len(wanted),
            )
            self.uplink.send_events(wanted)
        else:
            self._stop_item(order.item_id, order.reason)

    def _remember_command(
        self, command: Command, queued: QueuedPlay | None, *, hold: bool = False
    ) -> bool:
        if command.command_id in self._seen_commands:
            return False
        self._seen_commands.add(command.command_id)
        try:
            fresh = self.outbox.remember_command(
                command.command_id, command.expires_at, queued, with_next_write=hold
            )
            if hold and fresh and self._loop is not None:
                # Should the play not start (stopped, expired), the row still goes in.
                self._loop.call_later(HELD_WRITE_S, self._guarded, self._write_held)
            return fresh
        except sqlite3.Error as exc:
            # Act on it anyway; the in-memory set still stops duplicates in this run.
            log.error("%s: could not store command %s: %s", self.device_id, command.command_id, exc)
            return True

    def _write_held(self) -> None:
        try:
            self.outbox.write_held()
        except sqlite3.Error as exc:
            log.error("%s: could not store held commands: %s", self.device_id, exc)

    def _stop_item(self, item_id: str, why: str) -> None:
        text = "stopped by controller" + (f": {why}" if why else "")
        if why.startswith(("cancelled", "updated by")):
            text = why  # an emergency's cancel or update says it in its own words
        if self.playback.request_stop(item_id, Outcome.PARTIAL, text):
            return
        if not self.playback.stop_queued(item_id, text):
            log.info("%s: stop for %s: not playing nor queued", self.device_id, item_id)

    def _accept_ack(self, ack: EventAck) -> None:
        try:
            # A refused event is acknowledged too: the controller holds it (as a
            # security record, not evidence), so resending it would change nothing.
            deleted = self.outbox.acknowledge((*ack.event_ids, *ack.refused_event_ids))
            reported = self.security.acknowledge(ack.report_ids)
        except sqlite3.Error as exc:
            log.error("%s: could not apply ack: %s (will be acked again)", self.device_id, exc)
            return
        self.stats.events_acked += len(deleted)
        for stored_id in (*deleted, *reported):
            self.uplink.forget(stored_id)
        refused = set(ack.refused_event_ids)
        for event_id in deleted:
            if event_id in refused:
                why = f"the controller kept event {event_id} as a security record, not evidence"
                self._refuse(Refused(EVENT_REFUSED, why), "", report=False)
            self._call_hook(self.on_event_acked, event_id)

    def _refuse(
        self, refused: Refused, topic: str, command: Command | None = None, *, report: bool = True
    ) -> None:
        """Log a refusal on disk, then report it (reports are resent until acked)."""
        self.stats.refused[refused.reason] += 1
        try:
            ready = self.security.refuse(refused, topic, command, report=report)
        except sqlite3.Error as exc:
            log.error("%s: could not write the security log: %s", self.device_id, exc)
            return
        self.uplink.send_reports(ready)

    # playback hooks ----------------------------------------------------------------

    def _started(self, item_id: str, at: datetime) -> None:
        self.stats.plays_started += 1
        self._starts[item_id] = at
        while len(self._starts) > _REMEMBERED_STARTS:
            self._starts.popitem(last=False)
        for future in self._start_waiters.pop(item_id, []):
            if not future.done():
                future.set_result(at)
        self._call_hook(self.on_playback_started, item_id, at)
        # The controller learns it sounds (the event comes at the end), after the start.
        deferred(self.clock).add(self.device_id, self._publish_state)

    def _is_current(self, item_id: str) -> bool:
        return self.playback.is_current(item_id)

    def _volume(self) -> int | None:
        return self.hardware.volume.get() if self.hardware else None

    # evidence and publishing -------------------------------------------------------

    def _record(self, item: PlanItem, facts: PlayFacts) -> None:
        claimed = self._claim(item, facts)
        if claimed is not None:
            self._write_event(item, claimed)

    def _record_played(self, item: PlanItem, facts: PlayFacts) -> None:
        """After a play: the item is done at once (it never plays twice), its event is
        signed, stored and published off the timing path, after any start due now."""
        claimed = self._claim(item, facts)
        if claimed is not None:
            job = partial(self._write_event, item, claimed)
            deferred(self.clock).add(self.device_id, job)

    def _claim(self, item: PlanItem, facts: PlayFacts) -> PlayFacts | None:
        """Mark ``item`` done; the facts to record, None if it already has its event."""
        if item.item_id in self._done:
            # One final event per item id, whatever path tries to write a second.
            log.warning(
                "%s: %s already has its event; not recording %s",
                self.device_id,
                item.item_id,
                facts.outcome,
            )
            return None
        self._done.add(item.item_id)
        if facts.volume is None and facts.outcome is not Outcome.SKIPPED:
            facts = replace(facts, volume=self._volume())
        return facts

    def _write_event(self, item: PlanItem, facts: PlayFacts) -> None:
        event, ready = self.evidence.record(item, facts)
        self.stats.events_recorded += 1
        log.info(
            "%s: %s %s seq %d%s",
            self.device_id,
            item.item_id,
            event.outcome,
            event.seq,
            f" ({event.reason})" if event.reason else "",
        )
        self._call_hook(self.on_event_recorded, event)
        self.uplink.send_events(ready)

    def _recover_interrupted_plays(self) -> None:
        for row in self.outbox.journal():
            item = PlanItem.model_validate_json(row.item_json)
            self._record(item, interrupted_play_facts(row))

    def _publish_state(self) -> None:
        if not self.uplink.connected:
            return
        self._last_state = self.clock.now()
        state = DeviceState(
            plan_version=self.plan_version,
            device_time=self.clock.now(),
            cached_media=self.media.count(),
            pending_events=self.outbox.pending_count() + self.evidence.unwritten,
            agent_version=AGENT_VERSION,
            playing_item_id=self.playback.playing_item_id,
            broadcast_ward=self._ward,
        )
        self.uplink.send(DeviceChannel.STATE, state, retain=True)

    async def _housekeeping_loop(self) -> None:
        interval = min(self.config.resend_interval_s, self.config.state_interval_s)
        if self.hardware is not None:
            # Kick well inside the watchdog's timeout, whatever the resend interval.
            interval = min(interval, self.hardware.watchdog.timeout_s / 3)
        # Each device ticks at its own phase (fixed by its id): hundreds of agents that
        # started together (a fleet, or a ward after a power cut) must not all resend,
        # query and sign at the same instant, perhaps the instant of a broadcast.
        phase = zlib.crc32(self.device_id.encode()) % 1000 / 1000
        first = True
        while True:
            if self.hardware is not None:
                self.hardware.watchdog.kick()
            await self.clock.sleep(interval * phase if first else interval)
            first = False
            self._guarded(self._housekeeping)

    def _housekeeping(self) -> None:
        now = self.clock.now()
        if self.evidence.unwritten:
            self.uplink.send_events(self.evidence.flush())
        self.uplink.send_reports(self.security.flush_suppressed())
        if self.uplink.connected:
            self.uplink.resend_stale(self.outbox.unacked(), self.config.resend_interval_s)
            self.uplink.resend_stale_reports(self.security.unacked(), self.config.resend_interval_s)
        if now - self._last_state >= timedelta(seconds=self.config.state_interval_s):
            self._publish_state()  # device_time lets the controller track clock offset
        if now - self._last_forget >= _FORGET_COMMANDS_EVERY:
            self._last_forget = now
            self.outbox.forget_expired_commands(forget_before(now))

    # helpers ---------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.device_id}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "%s: task %s failed", self.device_id, task.get_name(), exc_info=task.exception()
            )

    def _call_hook(self, hook: Callable[..., None] | None, *args: object) -> None:
        if hook is None:
            return
        try:
            hook(*args)
        except Exception:
            log.exception("%s: hook %r failed", self.device_id, hook)


def _late_limit_s(item: PlanItem, grace_s: float) -> float:
    """How late an item may be learnt of and still start: a relay joins its live
    stream any time before its window closes; anything else within the grace."""
    if item.relay is not None:
        return max(grace_s, item.relay.window_s)
    return grace_s
