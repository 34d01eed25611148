"""The edge agent: keeps its plan, fetches and verifies audio, plays on time, confirms.

One ``EdgeAgent`` is one device. It is plain asyncio with every dependency injected
(transport, player, clock, media fetcher, hardware), so many agents share one event
loop (``AgentFleet``) and the unit tests drive one with a FakeClock. It builds its
collaborators, runs its lifecycle and takes what arrives: start reading here.

What arrives from the controller (plan, command, ack) is verified against the
controller's key first (``inbox``); anything bad is logged with its reason, goes to
the security log and is ignored. A threaded transport calls back on its own thread,
so callbacks only hop onto the loop (``call_soon_threadsafe``); all state is touched
on the loop alone, and callbacks and tasks run guarded there (``agent_loop``). Where
each rule lives:

- the plan in force, late items SKIPPED, an item id played at most once:
  ``plan_intake`` and ``recorder``;
- commands refused or acted on (StopItem, PlayNow, resend), acks: ``commands``;
- playing, preemption and outcomes: ``playback`` and docs/priorities.md (an
  EMERGENCY preempts, the interrupted item is PREEMPTED and **not** resumed; a relay
  rejoins its stream);
- the retained state, resends, the watchdog: ``housekeeping``;
- a play cut by a crash is reported at the next start as FAILED "agent restarted
  during playback", from its journal row, with the seconds it had sounded
  (``recorder``);
- every event is stored (``evidence``, ``outbox``) before it is published, resent on
  every reconnect and every ``resend_interval_s`` until acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from edge_agent.agent_loop import AgentLoop
from edge_agent.amplifier import AmplifierGate
from edge_agent.commands import CommandDesk
from edge_agent.config import AgentConfig
from edge_agent.evidence import EvidenceLog
from edge_agent.housekeeping import Housekeeping
from edge_agent.inbox import WardOpenings
from edge_agent.media_cache import MediaCache, MediaFetcher
from edge_agent.outbox import Outbox
from edge_agent.outbox_rows import StoredEvent
from edge_agent.pcm import PacedSink, PcmSink
from edge_agent.plan_intake import PlanIntake
from edge_agent.plan_store import PlanStore
from edge_agent.playback import Playback
from edge_agent.player import Player
from edge_agent.receiving import Receiver
from edge_agent.recorder import PlayRecorder
from edge_agent.relay_desk import RelayDesk
from edge_agent.schedule import PlayQueue
from edge_agent.security import SecurityLog
from edge_agent.start_notices import StartNotices
from edge_agent.stats import AgentStats
from edge_agent.stream import FfmpegStreamOpener, StreamOpener
from edge_agent.timing import deferred
from edge_agent.uplink import Uplink
from firmware_stubs.hardware import Hardware
from wardcast_protocol.channels import AGENT_INBOUND
from wardcast_protocol.clock import Clock, SystemClock
from wardcast_protocol.messages import Availability, Plan, PlaybackEvent
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage, Unsubscribe
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import Transport

log = logging.getLogger(__name__)

PlaybackStartedHook = Callable[[str, datetime], None]
"""Called on the agent's loop with (item_id, actual_start) when sound starts."""
EventRecordedHook = Callable[[PlaybackEvent], None]
"""Called on the agent's loop with each event once built (before it is published)."""
EventAckedHook = Callable[[str], None]
"""Called on the agent's loop with each event id the controller acknowledged."""


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
        self._loop = AgentLoop(self.device_id)
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
        self.recorder = PlayRecorder(
            device_id=self.device_id,
            clock=self.clock,
            outbox=self.outbox,
            evidence=self.evidence,
            uplink=self.uplink,
            stats=self.stats,
            volume=self._volume,
            on_recorded=self._event_recorded,
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
            record=self.recorder.record,
            record_played=self.recorder.record_played,
            on_started=self._started,
            volume=self._volume,
            relays=self.relays,
        )
        self.housekeeping = Housekeeping(
            config=config,
            clock=self.clock,
            hardware=hardware,
            uplink=self.uplink,
            outbox=self.outbox,
            evidence=self.evidence,
            security=self.security,
            media=self.media,
            playback=self.playback,
            plan_version=lambda: self.plan_version,
            ward=lambda: self.receiver.ward,
        )
        self.intake = PlanIntake(
            device_id=self.device_id,
            clock=self.clock,
            late_start_grace_s=config.late_start_grace_s,
            plans=self.plans,
            outbox=self.outbox,
            queue=self.queue,
            media=self.media,
            playback=self.playback,
            recorder=self.recorder,
            spawn=self._loop.spawn,
            # The receiver is built below; a plan names the ward it listens to.
            listen_to_ward=lambda ward_code: self.receiver.listen_to_ward(ward_code),
            publish_state=self.housekeeping.publish_state,
        )
        self.commands = CommandDesk(
            device_id=self.device_id,
            clock=self.clock,
            stats=self.stats,
            outbox=self.outbox,
            security=self.security,
            uplink=self.uplink,
            media=self.media,
            queue=self.queue,
            playback=self.playback,
            recorder=self.recorder,
            spawn=self._loop.spawn,
            later=self._loop.later,
            on_acked=self._event_acked,
        )
        self.receiver = Receiver(
            device_id=self.device_id,
            controller_public_key=config.controller_public_key,
            transport=transport,
            stats=self.stats,
            intake=self.intake,
            commands=self.commands,
            on_message=self._on_message,
            ward_openings=lambda: self.ward_openings,
        )
        self._starts = StartNotices()
        self._playback_task: asyncio.Task[Any] | None = None
        self._unsubscribe: list[Unsubscribe] = []

    # lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what the last run left, load the plan, connect and start playing."""
        self._loop.open()
        self.recorder.recover()
        self.intake.load()
        self._unsubscribe = [
            self.transport.add_connection_handler(self._on_connection),
            *(
                self.transport.subscribe(device_topic(self.device_id, channel), self._on_message)
                for channel in AGENT_INBOUND
            ),
        ]
        self.receiver.listen_to_ward(self.plan.ward_code if self.plan is not None else None)
        self._playback_task = self._loop.spawn(self.playback.run(), "playback")
        self._loop.spawn(self.housekeeping.run(self._loop.guarded), "housekeeping")
        self.intake.prefetch()
        self.transport.start()
        log.info(
            "%s: started (plan v%s, %d queued)", self.device_id, self.plan_version, len(self.queue)
        )

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop cleanly: end the current play (recorded PARTIAL), say offline, disconnect."""
        if not self._loop.running:
            return
        self.playback.shutdown()
        if self._playback_task is not None:
            await asyncio.wait([self._playback_task], timeout=timeout_s)
        self.playback.flush_deferred()  # the last plays' events, before the outbox closes
        self.commands.write_held()
        if self.uplink.connected:
            self.uplink.send(DeviceChannel.AVAILABILITY, Availability(state="offline"), retain=True)
        await self._shutdown()

    async def abort(self) -> None:
        """Stop as a crash would: cancel everything and record nothing (for fault tests)."""
        if self._loop.running:
            await self._shutdown()

    async def _shutdown(self) -> None:
        self._loop.running = False
        self.playback.discard_deferred()
        await self._loop.cancel_tasks()
        await self.media.close()
        self.transport.stop()
        # Only after stopping: unsubscribing while connected would also drop the
        # broker session's subscriptions, and with them the commands it keeps for us.
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.receiver.leave_ward()
        self._unsubscribe = []
        self.outbox.close()
        self.security.close()
        self.connected.clear()

    # observation -----------------------------------------------------------------

    @property
    def plan(self) -> Plan | None:
        """The plan in force, None before the first one (``plan_intake``)."""
        return self.intake.plan

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
        return await self._starts.wait_for(item_id)

    # inbound (any thread -> loop) --------------------------------------------------

    def _on_message(self, message: ReceivedMessage) -> None:
        self._loop.call_soon(
            self.receiver.handle_message, message.topic, message.payload, message.retained
        )

    def _on_connection(self, up: bool) -> None:
        self._loop.call_soon(self._handle_connection, up)

    def _handle_connection(self, up: bool) -> None:
        if not up:
            self.connected.clear()
            log.info("%s: broker connection lost; playing on from the local plan", self.device_id)
            return
        self.uplink.send(DeviceChannel.AVAILABILITY, Availability(state="online"), retain=True)
        self.housekeeping.publish_state()
        # Everything unacknowledged, in order: the controller dedups on event id.
        self.uplink.send_events(self.outbox.unacked())
        self.uplink.send_reports(self.security.unacked())
        self.connected.set()

    # collaborators' hooks ----------------------------------------------------------

    def _started(self, item_id: str, at: datetime) -> None:
        self.stats.plays_started += 1
        self._starts.note(item_id, at)
        self._loop.call_hook(self.on_playback_started, item_id, at)
        # The controller learns it sounds (the event comes at the end), after the start.
        deferred(self.clock).add(self.device_id, self.housekeeping.publish_state)

    def _event_recorded(self, event: PlaybackEvent) -> None:
        self._loop.call_hook(self.on_event_recorded, event)

    def _event_acked(self, event_id: str) -> None:
        self._loop.call_hook(self.on_event_acked, event_id)

    def _volume(self) -> int | None:
        return self.hardware.volume.get() if self.hardware else None
