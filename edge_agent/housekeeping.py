"""What an agent does between plays: its retained state, resends, the watchdog.

Apart from ``core`` because none of it is on the way in (messages) or the way to a
start: it is the agent's slow clock. The retained ``state`` (plan version in force,
cached media, pending events, device time, the item sounding, the ward listened to)
goes out on connect, after plans and prefetches, just after a start (deferred, off the
timing path) and every ``state_interval_s``; unacknowledged events and security
reports are resent every ``resend_interval_s``; the systemd watchdog is kicked well
inside its timeout; seen command ids are forgotten once they expired long ago.

Each device ticks at its own phase (fixed by its id), so that hundreds of agents that
started together do not all resend, query and sign at the same instant.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import timedelta

from edge_agent import AGENT_VERSION
from edge_agent.config import AgentConfig
from edge_agent.evidence import EvidenceLog
from edge_agent.media_cache import MediaCache
from edge_agent.outbox import Outbox
from edge_agent.playback import Playback
from edge_agent.security import SecurityLog, forget_before
from edge_agent.uplink import Uplink
from firmware_stubs.hardware import Hardware
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import DeviceState
from wardcast_protocol.topics import DeviceChannel

_FORGET_COMMANDS_EVERY = timedelta(hours=1)


class Housekeeping:
    """One agent's state publishing and periodic chores."""

    def __init__(
        self,
        *,
        config: AgentConfig,
        clock: Clock,
        hardware: Hardware | None,
        uplink: Uplink,
        outbox: Outbox,
        evidence: EvidenceLog,
        security: SecurityLog,
        media: MediaCache,
        playback: Playback,
        plan_version: Callable[[], int | None],
        ward: Callable[[], str | None],
    ) -> None:
        self._config = config
        self._device_id = config.device_id
        self._clock = clock
        self._hardware = hardware
        self._uplink = uplink
        self._outbox = outbox
        self._evidence = evidence
        self._security = security
        self._media = media
        self._playback = playback
        self._plan_version = plan_version
        self._ward = ward
        self._last_forget = clock.now()
        self._last_state = clock.now()

    def publish_state(self) -> None:
        """Publish the retained state, if connected."""
        if not self._uplink.connected:
            return
        self._last_state = self._clock.now()
        state = DeviceState(
            plan_version=self._plan_version(),
            device_time=self._clock.now(),
            cached_media=self._media.count(),
            pending_events=self._outbox.pending_count() + self._evidence.unwritten,
            agent_version=AGENT_VERSION,
            playing_item_id=self._playback.playing_item_id,
            broadcast_ward=self._ward(),
        )
        self._uplink.send(DeviceChannel.STATE, state, retain=True)

    async def run(self, guarded: Callable[[Callable[[], None]], None]) -> None:
        """Tick forever at this device's phase; each tick through ``guarded``."""
        interval = min(self._config.resend_interval_s, self._config.state_interval_s)
        if self._hardware is not None:
            # Kick well inside the watchdog's timeout, whatever the resend interval.
            interval = min(interval, self._hardware.watchdog.timeout_s / 3)
        # Each device ticks at its own phase (fixed by its id): hundreds of agents that
        # started together (a fleet, or a ward after a power cut) must not all resend,
        # query and sign at the same instant, perhaps the instant of a broadcast.
        phase = zlib.crc32(self._device_id.encode()) % 1000 / 1000
        first = True
        while True:
            if self._hardware is not None:
                self._hardware.watchdog.kick()
            await self._clock.sleep(interval * phase if first else interval)
            first = False
            guarded(self.tick)

    def tick(self) -> None:
        """One round of chores: flush, resend what is stale, state, forget old ids."""
        now = self._clock.now()
        if self._evidence.unwritten:
            self._uplink.send_events(self._evidence.flush())
        self._uplink.send_reports(self._security.flush_suppressed())
        if self._uplink.connected:
            interval = self._config.resend_interval_s
            self._uplink.resend_stale(self._outbox.unacked(), interval)
            self._uplink.resend_stale_reports(self._security.unacked(), interval)
        if now - self._last_state >= timedelta(seconds=self._config.state_interval_s):
            self.publish_state()  # device_time lets the controller track clock offset
        if now - self._last_forget >= _FORGET_COMMANDS_EVERY:
            self._last_forget = now
            self._outbox.forget_expired_commands(forget_before(now))
