"""What an agent sends: signed availability and state, stored events, and their resends.

Events go out as the exact bytes stored in the outbox (never re-sealed), so a resend
is byte-identical and the controller's dedup on event id stores each exactly once.
Nothing is published while the link is down: the reconnect sends the whole outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel

from edge_agent.outbox import StoredEvent
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import Kind
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import Transport

log = logging.getLogger(__name__)


class Uplink:
    """Publishing for one device over its transport."""

    def __init__(self, device_id: str, transport: Transport, key: SigningKey, clock: Clock) -> None:
        self._device_id = device_id
        self._transport = transport
        self._key = key
        self._clock = clock
        self._event_topic = device_topic(device_id, DeviceChannel.EVENT)
        self._sent_at: dict[str, datetime] = {}
        self.published = 0

    @property
    def connected(self) -> bool:
        """True while the transport is connected."""
        return self._transport.connected

    def send(self, channel: DeviceChannel, body: BaseModel, *, retain: bool = False) -> None:
        """Seal ``body`` with the device key and publish it on the device's ``channel``."""
        wire = seal(Kind(channel.value), body, self._device_id, self._key, self._clock.now())
        self._transport.publish(device_topic(self._device_id, channel), wire, retain=retain)

    def send_events(self, events: Iterable[StoredEvent]) -> None:
        """Publish stored events in the order given (nothing while offline)."""
        if not self._transport.connected:
            return  # the reconnect sends the whole outbox
        now = self._clock.now()
        for stored in events:
            self._transport.publish(self._event_topic, stored.wire)
            self._sent_at[stored.event_id] = now
            self.published += 1

    def resend_stale(self, unacked: Iterable[StoredEvent], after_s: float) -> int:
        """Publish again the events sent more than ``after_s`` ago (or never); how many."""
        if not self._transport.connected:
            return 0
        now = self._clock.now()
        stale = timedelta(seconds=after_s)
        due = [e for e in unacked if now - self._sent_at.get(e.event_id, now - stale) >= stale]
        if due:
            log.info("%s: resending %d unacknowledged events", self._device_id, len(due))
            self.send_events(due)
        return len(due)

    def forget(self, event_id: str) -> None:
        """The controller has the event: stop tracking when it was sent."""
        self._sent_at.pop(event_id, None)
