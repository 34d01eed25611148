"""Signs and publishes what the controller sends: plans, commands, acks, availability."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from controller.db.models import new_id
from controller.messaging.downlink import Downlink
from controller.messaging.fanout import WardListeners, address, chunks
from controller.metrics.registry import mqtt_sent
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import CONTROLLER_SENDER, seal
from wardcast_protocol.messages import (
    Availability,
    Command,
    EventAck,
    Kind,
    Plan,
    PlayNow,
    StopItem,
)
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import (
    CONTROLLER_AVAILABILITY,
    DeviceChannel,
)
from wardcast_protocol.transport import Transport


def controller_availability(key: SigningKey, now: datetime, online: bool) -> tuple[str, bytes]:
    """The controller's signed availability (used as birth and as last will)."""
    body = Availability(state="online" if online else "offline")
    return CONTROLLER_AVAILABILITY, seal(Kind.AVAILABILITY, body, CONTROLLER_SENDER, key, now)


class MqttOutbound:
    """The ``Outbound`` port over a ``Transport``; every payload signed by the controller."""

    def __init__(
        self,
        transport: Transport,
        key: SigningKey,
        clock: Clock,
        listeners: WardListeners | None = None,
        downlink: Downlink | None = None,
    ) -> None:
        self._transport = transport
        self._key = key
        self._clock = clock
        self.listeners = listeners or WardListeners()
        # Which topics reach a device: its own, or under its province's prefix when
        # the provinces' brokers are bridged to this one (docs/scale.md).
        self.downlink = downlink or Downlink()

    def _seal(self, kind: Kind, body: Plan | Command | EventAck) -> bytes:
        return seal(kind, body, CONTROLLER_SENDER, self._key, self._clock.now())

    def publish_plan(self, plan: Plan) -> None:
        """Retained: a device that connects later still gets its current plan."""
        topic, left = self.downlink.plan(plan.device_id)
        for stale in left:  # moved province: its plan no longer waits where it was
            self._transport.publish(stale, b"", retain=True)
        self._transport.publish(topic, self._seal(Kind.PLAN, plan), retain=True)
        mqtt_sent(DeviceChannel.PLAN)

    def send_command(self, device_id: str, command: Command) -> None:
        """Never retained; the broker drops it when it expires undelivered."""
        remaining = (command.expires_at - self._clock.now()).total_seconds()
        topic = self.downlink.device(device_id, DeviceChannel.COMMAND)
        payload = self._seal(Kind.COMMAND, command)
        self._transport.publish(topic, payload, retain=False, expiry_s=max(1, int(remaining)))
        mqtt_sent(DeviceChannel.COMMAND)

    def send_order(
        self,
        targets: Mapping[str, str | None],
        order: PlayNow | StopItem,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None:
        """One order to many devices (device id -> its ward): a command per ward
        listening (naming its devices, a thousand at most), one per device not."""
        wards, singles = address(targets, self.listeners)
        expiry_s = max(1, int((expires_at - self._clock.now()).total_seconds()))
        for ward, device_ids in wards.items():
            for run in chunks(device_ids):
                command = Command(
                    command_id=new_id("cmd"),
                    device_ids=run,
                    issued_at=issued_at,
                    expires_at=expires_at,
                    order=order,
                )
                payload = self._seal(Kind.COMMAND, command)
                self._transport.publish(
                    self.downlink.ward(ward), payload, retain=False, expiry_s=expiry_s
                )
                mqtt_sent(DeviceChannel.COMMAND)
        for device_id in singles:
            command = Command(
                command_id=new_id("cmd"),
                device_ids=(device_id,),
                issued_at=issued_at,
                expires_at=expires_at,
                order=order,
            )
            self.send_command(device_id, command)

    def ack(
        self,
        device_id: str,
        event_ids: tuple[str, ...] = (),
        *,
        refused_event_ids: tuple[str, ...] = (),
        report_ids: tuple[str, ...] = (),
    ) -> None:
        """Tell a device these events are stored (or refused as evidence), these reports kept."""
        topic = self.downlink.device(device_id, DeviceChannel.ACK)
        ack = EventAck(
            event_ids=event_ids, refused_event_ids=refused_event_ids, report_ids=report_ids
        )
        self._transport.publish(topic, self._seal(Kind.ACK, ack), retain=False)
        mqtt_sent(DeviceChannel.ACK)
