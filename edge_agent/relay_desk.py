"""Every relay of one agent: its streams from prebuffer time, and the runs an emergency
suspended.

Apart from ``relay`` (one run on air) because the desk outlives the runs: it opens a
relay item's ``StreamMonitor`` ``prebuffer_s`` before its window (when the plan
arrives), hands the play loop a run on that monitor, keeps a suspended run and its
connection through an emergency, and closes each stream once its relay is recorded,
stopped or dropped from the plan.
"""

from __future__ import annotations

from datetime import timedelta

from edge_agent.amplifier import AmplifierGate
from edge_agent.media_cache import MediaCache
from edge_agent.pcm import PcmSink
from edge_agent.player import Player
from edge_agent.relay import RelayRun, relay_spec
from edge_agent.stream import StreamMonitor, StreamOpener
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import PlanItem

DEFAULT_RATE_HZ = 8000


class RelayDesk:
    """Every relay of one agent: their monitors (from prebuffer time) and suspended runs."""

    def __init__(
        self,
        *,
        opener: StreamOpener,
        sink: PcmSink,
        player: Player,
        media: MediaCache,
        clock: Clock,
        gate: AmplifierGate,
        rate_hz: int = DEFAULT_RATE_HZ,
    ) -> None:
        self._opener = opener
        self._sink = sink
        self._player = player
        self._media = media
        self._clock = clock
        self._gate = gate
        self._rate_hz = rate_hz
        self._monitors: dict[str, StreamMonitor] = {}
        self._suspended: dict[str, RelayRun] = {}

    def watch(self, item: PlanItem) -> None:
        """Start ``item``'s monitor (it connects ``prebuffer_s`` before the window)."""
        if item.relay is None or item.item_id in self._monitors:
            return
        end = item.planned_start + timedelta(seconds=item.relay.window_s)
        if self._clock.now() >= end:
            return
        monitor = StreamMonitor(
            item.relay,
            self._opener,
            self._clock,
            connect_at=item.planned_start - timedelta(seconds=item.relay.prebuffer_s),
            until=end,
            rate_hz=self._rate_hz,
        )
        self._monitors[item.item_id] = monitor
        monitor.start()

    def run_for(self, item: PlanItem) -> RelayRun:
        """The run for ``item``: the suspended one, or a new one on its monitor."""
        run = self._suspended.pop(item.item_id, None)
        if run is not None:
            return run
        self.watch(item)
        monitor = self._monitors.get(item.item_id)
        if monitor is None:  # the window is over already: a run that finds nothing
            monitor = StreamMonitor(
                relay_spec(item),
                self._opener,
                self._clock,
                connect_at=self._clock.now(),
                until=self._clock.now(),
                rate_hz=self._rate_hz,
            )
        return RelayRun(
            item,
            monitor,
            sink=self._sink,
            player=self._player,
            media=self._media,
            clock=self._clock,
            gate=self._gate,
        )

    def suspend(self, run: RelayRun, why: str) -> None:
        """Keep ``run`` (and its connection) for when the emergency is over."""
        run.suspend(why)
        self._suspended[run.item.item_id] = run

    def take_suspended(self, item_id: str) -> RelayRun | None:
        """Remove and return a suspended run (to record it)."""
        return self._suspended.pop(item_id, None)

    def suspended_ids(self) -> list[str]:
        """Items whose relay waits for an emergency to end."""
        return list(self._suspended)

    def release(self, item_id: str) -> None:
        """Close ``item_id``'s stream: it is recorded, stopped or no longer planned."""
        self._suspended.pop(item_id, None)
        monitor = self._monitors.pop(item_id, None)
        if monitor is not None:
            monitor.cancel()

    def close(self) -> None:
        """Close every stream (agent stopping)."""
        for item_id in list(self._monitors):
            self.release(item_id)
