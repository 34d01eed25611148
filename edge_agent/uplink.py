"""What an agent sends: signed availability and state, stored events and security
reports, and their resends.

Events and reports go out as the exact bytes stored on disk (never re-sealed), so a
resend is byte-identical and the controller's dedup on their ids stores each exactly
once. Nothing is published while the link is down: the reconnect sends them all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel

from edge_agent.outbox_rows import StoredEvent
from edge_agent.security import StoredReport
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
        self._security_topic = device_topic(device_id, DeviceChannel.SECURITY)
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
        self._send(self._event_topic, ((e.event_id, e.wire) for e in events))

    def send_reports(self, reports: Iterable[StoredReport]) -> None:
        """Publish stored security reports in the order given (nothing while offline)."""
        self._send(self._security_topic, ((r.report_id, r.wire) for r in reports))

    def _send(self, topic: str, stored: Iterable[tuple[str, bytes]]) -> None:
        if not self._transport.connected:
            return  # the reconnect sends everything still unacknowledged
        now = self._clock.now()
        for stored_id, wire in stored:
            self._transport.publish(topic, wire)
            self._sent_at[stored_id] = now
            self.published += 1

    def _stale(self, ids: Iterable[str], after_s: float) -> set[str]:
        now = self._clock.now()
        stale = timedelta(seconds=after_s)
        return {i for i in ids if now - self._sent_at.get(i, now - stale) >= stale}

    def resend_stale(self, unacked: Iterable[StoredEvent], after_s: float) -> int:
        """Publish again the events sent more than ``after_s`` ago (or never); how many."""
        stored = ((e.event_id, e.wire) for e in unacked)
        return self._resend(self._event_topic, stored, after_s, "unacknowledged events")

    def resend_stale_reports(self, unacked: Iterable[StoredReport], after_s: float) -> int:
        """Publish again the reports sent more than ``after_s`` ago (or never); how many."""
        stored = ((r.report_id, r.wire) for r in unacked)
        return self._resend(self._security_topic, stored, after_s, "security reports")

    def _resend(
        self, topic: str, stored: Iterable[tuple[str, bytes]], after_s: float, what: str
    ) -> int:
        # Offline, nothing is read or marked as sent: the reconnect sends them all.
        if not self._transport.connected:
            return 0
        rows = list(stored)
        stale = self._stale((stored_id for stored_id, _ in rows), after_s)
        due = [row for row in rows if row[0] in stale]
        if due:
            log.info("%s: resending %d %s", self._device_id, len(due), what)
            self._send(topic, due)
        return len(due)

    def forget(self, stored_id: str) -> None:
        """The controller has the event or report: stop tracking when it was sent."""
        self._sent_at.pop(stored_id, None)
