"""The controller's ear: every message from devices comes through here.

Each payload is checked (size, shape, signature against the device's registered
key, schema) before anything is stored; a refused payload is logged and kept as a
rejected message with its reason, never as evidence. An event for an item never
planned for the device, and a device's own security report (what its agent
refused), become security records; both are acknowledged once committed, so the
device stops resending them. Nothing a device sends can crash this loop.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import cast

from controller.db.session import Database
from controller.domain.devices import service as device_domain
from controller.domain.errors import DomainError
from controller.domain.evidence import security as security_domain
from controller.domain.evidence import service as evidence_domain
from controller.domain.plans.service import PlanService
from controller.logs import bind_log_context, log_context
from controller.messaging.outbound import MqttOutbound
from controller.metrics import registry as metrics
from wardcast_protocol.channels import CONTROLLER_INBOUND
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import RejectedMessage, Verified, open_envelope
from wardcast_protocol.messages import Availability, DeviceState, PlaybackEvent, SecurityReport
from wardcast_protocol.topics import DeviceChannel, all_devices, parse
from wardcast_protocol.transport import ReceivedMessage, Transport

log = logging.getLogger(__name__)


class ControllerBridge:
    """Subscribes to device topics, verifies, stores evidence and acknowledges it."""

    def __init__(
        self,
        transport: Transport,
        db: Database,
        outbound: MqttOutbound,
        plans: PlanService,
        clock: Clock,
    ) -> None:
        self._transport = transport
        self._db = db
        self._outbound = outbound
        self._plans = plans
        self._clock = clock
        self._keys: dict[str, str] = {}
        self._keys_lock = threading.Lock()
        self.stored_events = 0
        self.refused_events = 0
        self.security_reports = 0
        self.rejected = 0

    def start(self) -> None:
        """Subscribe to every device's device-to-controller channels (the channel table's)."""
        for channel in CONTROLLER_INBOUND:
            self._transport.subscribe(all_devices(channel), self.handle)

    def forget_key(self, device_id: str) -> None:
        """Drop a cached key (after a device is re-registered)."""
        with self._keys_lock:
            self._keys.pop(device_id, None)

    def _key_of(self, device_id: str) -> str | None:
        with self._keys_lock:
            cached = self._keys.get(device_id)
        if cached is not None:
            return cached
        with self._db.session() as session:
            key = device_domain.public_key_of(session, device_id)
        if key is not None:
            with self._keys_lock:
                self._keys[device_id] = key
        return key

    def handle(self, message: ReceivedMessage) -> None:
        """Entry point for every received message (runs on the transport's thread).

        Its log records carry ``message_id``: the topic, until the envelope names an id.
        """
        with log_context(message_id=message.topic):
            self._handle(message)

    def _handle(self, message: ReceivedMessage) -> None:
        topic, payload = message.topic, message.payload
        parsed = parse(topic)
        metrics.mqtt_received(parsed.channel if parsed is not None else None)
        if parsed is None or parsed.channel not in CONTROLLER_INBOUND:
            self._reject(topic, None, "bad_topic", "not a device-to-controller topic", payload)
            return
        device_id = parsed.device_id
        if not payload and parsed.spec.retained:
            return  # a cleared retained topic: nothing to read
        try:
            verified = open_envelope(
                payload, parsed.channel, self._key_of, expected_sender=device_id
            )
        except RejectedMessage as exc:
            self._reject(topic, device_id, exc.reason, exc.detail, payload)
            return
        if isinstance(verified.body, PlaybackEvent):
            bind_log_context(message_id=verified.body.event_id)
        elif isinstance(verified.body, SecurityReport):
            bind_log_context(message_id=verified.body.report_id)
        try:
            if parsed.channel is DeviceChannel.EVENT:
                self._on_event(device_id, cast(Verified[PlaybackEvent], verified))
            elif parsed.channel is DeviceChannel.SECURITY:
                self._on_security(device_id, cast(Verified[SecurityReport], verified))
            elif parsed.channel is DeviceChannel.AVAILABILITY:
                said_at = verified.sent_at if message.retained else None
                self._on_availability(device_id, cast(Availability, verified.body), said_at)
            else:
                said_at = verified.sent_at if message.retained else None
                self._on_state(device_id, cast(DeviceState, verified.body), said_at)
        except DomainError as exc:
            self._reject(topic, device_id, "refused", exc.message, payload)
        except Exception as exc:
            # Storage trouble (disk full, database gone): do NOT ack, so the device
            # keeps the event in its outbox and sends it again later.
            log.exception("could not process %s from %s", parsed.channel, device_id)
            self._reject(topic, device_id, "internal_error", repr(exc)[:500], payload)

    def _on_event(self, device_id: str, verified: Verified[PlaybackEvent]) -> None:
        now = self._clock.now()
        with self._db.session() as session:
            result = evidence_domain.record_event(session, verified, device_id, now)
        # Ack only after the commit: the device forgets an event once we have it.
        if result is evidence_domain.Stored.REFUSED:
            # Kept as a security record, not evidence: nothing for the device to resend.
            self._outbound.ack(device_id, refused_event_ids=(verified.body.event_id,))
            self.refused_events += 1
            return
        self._outbound.ack(device_id, (verified.body.event_id,))
        if result is evidence_domain.Stored.NEW:
            self.stored_events += 1
            metrics.evidence_stored(verified.body.outcome)
            log.info(
                "evidence %s from %s: %s (%s)",
                verified.body.event_id,
                device_id,
                verified.body.outcome,
                verified.body.item_id,
            )

    def _on_security(self, device_id: str, verified: Verified[SecurityReport]) -> None:
        with self._db.session() as session:
            security_domain.record_report(session, verified, device_id, self._clock.now())
        # After the commit, new or not: the device keeps the report until we have it.
        self._outbound.ack(device_id, report_ids=(verified.body.report_id,))
        self.security_reports += 1

    def _on_availability(
        self, device_id: str, body: Availability, said_at: datetime | None
    ) -> None:
        # A retained copy counts as heard when the device said it, not when we
        # subscribed: a stale "online" must not make a silent device look alive.
        now = self._clock.now()
        with self._db.session() as session:
            came_online = device_domain.mark_availability(
                session, device_id, body.state == "online", now, said_at=said_at
            )
        log.info("device %s is %s", device_id, body.state)
        if came_online:
            self._plans.republish(device_id)

    def _on_state(self, device_id: str, body: DeviceState, said_at: datetime | None) -> None:
        with self._db.session() as session:
            device_domain.record_state(session, device_id, body, self._clock.now(), said_at=said_at)

    def _reject(
        self, topic: str, device_id: str | None, reason: str, detail: str, payload: bytes
    ) -> None:
        self.rejected += 1
        metrics.rejected(reason)
        log.warning("rejected message on %s: %s (%s)", topic, reason, detail[:200])
        try:
            with self._db.session() as session:
                evidence_domain.record_rejection(
                    session, topic, device_id, reason, detail, payload, self._clock.now()
                )
        except Exception:
            log.exception("could not record a rejected message")
