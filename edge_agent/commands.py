"""Commands and acknowledgements from the controller, acted on (lệnh điều khiển).

Apart from ``core`` because this is where the agent says no: a command is refused
(``security``) when delivered retained, not addressed to this device, issued too far
in its future, expired or already seen (ids persisted); each refusal goes to the
security log and is reported to the controller until acknowledged. StopItem ends the
item as PARTIAL "stopped by controller" (SKIPPED if it had not started), or in its own
words for an emergency's "cancelled: …" / "updated by …".

A "now" that starts at once (its clip here, nothing sounding, nothing due) has its
command row *held* and written in the same commit as its play's journal row: one
commit (one fsync on a Pi) before it sounds instead of two. Should the play not start,
the row still goes in ``HELD_WRITE_S`` later. That path was tuned for start precision
at 1,000 agents: keep it as it is.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from edge_agent.media_cache import MediaCache
from edge_agent.outbox import Outbox
from edge_agent.outbox_rows import QueuedPlay, item_json
from edge_agent.playback import Playback
from edge_agent.recorder import PlayRecorder
from edge_agent.schedule import Pending, PlayQueue
from edge_agent.security import EVENT_REFUSED, REPLAYED, Refused, SecurityLog, check_command
from edge_agent.stats import AgentStats
from edge_agent.uplink import Uplink
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Command, EventAck, Outcome, PlayNow, ResendEvents

log = logging.getLogger(__name__)

# A held command row (a "now" starting at once) is written with its play's journal
# row; if no write comes (the play stopped or expired first), by this timer.
HELD_WRITE_S = 1.0

Spawn = Callable[[Awaitable[Any], str], "asyncio.Task[Any]"]
"""Runs a coroutine as one of the agent's tasks (named, logged if it fails)."""
Later = Callable[[float, Callable[[], None]], None]
"""Calls a function on the agent's loop after a delay (guarded like a message)."""


class CommandDesk:
    """Accepts or refuses one agent's commands; applies the controller's acks."""

    def __init__(
        self,
        *,
        device_id: str,
        clock: Clock,
        stats: AgentStats,
        outbox: Outbox,
        security: SecurityLog,
        uplink: Uplink,
        media: MediaCache,
        queue: PlayQueue,
        playback: Playback,
        recorder: PlayRecorder,
        spawn: Spawn,
        later: Later,
        on_acked: Callable[[str], None],
    ) -> None:
        self._device_id = device_id
        self._clock = clock
        self._stats = stats
        self._outbox = outbox
        self._security = security
        self._uplink = uplink
        self._media = media
        self._queue = queue
        self._playback = playback
        self._recorder = recorder
        self._spawn = spawn
        self._later = later
        self._on_acked = on_acked
        self._seen: set[str] = set()

    def accept(self, command: Command, topic: str, retained: bool) -> None:
        """Act on a verified command for this device, or refuse it (see the module)."""
        now = self._clock.now()
        refused = check_command(command, self._device_id, now, retained=retained)
        if refused is not None:
            if command.expires_at < now:
                self._stats.expired_ignored += 1
            self.refuse(refused, topic, command)
            return
        order = command.order
        queued, cached = None, False
        if isinstance(order, PlayNow):
            queued = QueuedPlay(order.item.item_id, item_json(order.item), now)
            cached = self._media.has(order.item.media)
        # A "now" that starts at once (its clip here, nothing sounding, armed, fetched
        # for or overdue) has its row written with its play's journal row: one commit
        # (one fsync on a Pi) before it sounds instead of two.
        at_once = cached and not self._playback.media_in_use and self._queue.next_due(now) is None
        if not self.remember(command, queued, hold=at_once):
            self._stats.duplicates_ignored += 1
            why = "already seen: a replay, or the broker delivering it twice (QoS 1)"
            self.refuse(Refused(REPLAYED, why), topic, command)
            return
        if isinstance(order, PlayNow):
            item = order.item
            # The item id decides, not the command id: a controller sends an order again
            # (new command) after a restart, to a device that may have it already.
            held = item.item_id in self._queue or self._playback.is_current(item.item_id)
            if item.item_id in self._recorder.done or held:
                log.info(
                    "%s: %s already played or queued; not again", self._device_id, item.item_id
                )
                return
            self._playback.enqueue(Pending(item, now, None, command.expires_at))
            if not cached:  # cached: no task between it and its start
                self._spawn(self._media.prefetch([item.media]), "prefetch")
            self._playback.wake()
        elif isinstance(order, ResendEvents):
            wanted = [e for e in self._outbox.unacked() if order.from_seq <= e.seq <= order.to_seq]
            log.info(
                "%s: controller asked for seqs %d-%d; %d still held, resending",
                self._device_id,
                order.from_seq,
                order.to_seq,
                len(wanted),
            )
            self._uplink.send_events(wanted)
        else:
            self._stop_item(order.item_id, order.reason)

    def remember(self, command: Command, queued: QueuedPlay | None, *, hold: bool = False) -> bool:
        """Note ``command`` as seen (on disk too); False if it was seen before."""
        if command.command_id in self._seen:
            return False
        self._seen.add(command.command_id)
        try:
            fresh = self._outbox.remember_command(
                command.command_id, command.expires_at, queued, with_next_write=hold
            )
            if hold and fresh:
                # Should the play not start (stopped, expired), the row still goes in.
                self._later(HELD_WRITE_S, self.write_held)
            return fresh
        except sqlite3.Error as exc:
            # Act on it anyway; the in-memory set still stops duplicates in this run.
            log.error(
                "%s: could not store command %s: %s", self._device_id, command.command_id, exc
            )
            return True

    def write_held(self) -> None:
        """Write the command rows held for the next journal row, now."""
        try:
            self._outbox.write_held()
        except sqlite3.Error as exc:
            log.error("%s: could not store held commands: %s", self._device_id, exc)

    def _stop_item(self, item_id: str, why: str) -> None:
        text = "stopped by controller" + (f": {why}" if why else "")
        if why.startswith(("cancelled", "updated by")):
            text = why  # an emergency's cancel or update says it in its own words
        if self._playback.request_stop(item_id, Outcome.PARTIAL, text):
            return
        if not self._playback.stop_queued(item_id, text):
            log.info("%s: stop for %s: not playing nor queued", self._device_id, item_id)

    def accept_ack(self, ack: EventAck) -> None:
        """Forget what the controller acknowledged (events and security reports)."""
        try:
            # A refused event is acknowledged too: the controller holds it (as a
            # security record, not evidence), so resending it would change nothing.
            deleted = self._outbox.acknowledge((*ack.event_ids, *ack.refused_event_ids))
            reported = self._security.acknowledge(ack.report_ids)
        except sqlite3.Error as exc:
            log.error("%s: could not apply ack: %s (will be acked again)", self._device_id, exc)
            return
        self._stats.events_acked += len(deleted)
        for stored_id in (*deleted, *reported):
            self._uplink.forget(stored_id)
        refused = set(ack.refused_event_ids)
        for event_id in deleted:
            if event_id in refused:
                why = f"the controller kept event {event_id} as a security record, not evidence"
                self.refuse(Refused(EVENT_REFUSED, why), "", report=False)
            self._on_acked(event_id)

    def refuse(
        self, refused: Refused, topic: str, command: Command | None = None, *, report: bool = True
    ) -> None:
        """Log a refusal on disk, then report it (reports are resent until acked)."""
        self._stats.refused[refused.reason] += 1
        try:
            ready = self._security.refuse(refused, topic, command, report=report)
        except sqlite3.Error as exc:
            log.error("%s: could not write the security log: %s", self._device_id, exc)
            return
        self._uplink.send_reports(ready)
