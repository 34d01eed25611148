"""The controller's side for tests and benchmarks: plan items with test defaults, and a
controller stand-in that sends them.

``ControllerStandIn`` speaks the protocol the way the controller does (signed plans,
commands and acks; verified events) on any ``Transport``: a ``FakeTransport`` in the
unit tier, a real ``MqttLink`` in the integration tier and the benchmarks. It does
not import the controller: it is built from ``wardcast_protocol`` alone.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from wardcast_protocol.envelope import (
    CONTROLLER_SENDER,
    RejectedMessage,
    Verified,
    open_envelope,
    seal,
)
from wardcast_protocol.messages import (
    Command,
    EventAck,
    Kind,
    MediaRef,
    Plan,
    PlanItem,
    PlaybackEvent,
    PlayNow,
    Priority,
    RelaySpec,
    ResendEvents,
    StopItem,
)
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, all_devices, device_topic, parse
from wardcast_protocol.transport import Transport


def plan_item(
    item_id: str,
    media: MediaRef,
    planned_start: datetime,
    *,
    priority: Priority = Priority.NORMAL,
    broadcast_id: str = "b-1",
) -> PlanItem:
    """A plan item with test defaults."""
    return PlanItem(
        item_id=item_id,
        broadcast_id=broadcast_id,
        title=f"item {item_id}",
        media=media,
        planned_start=planned_start,
        priority=priority,
    )


def relay_item(
    item_id: str,
    fallback: MediaRef,
    planned_start: datetime,
    url: str,
    *,
    window_s: float = 20.0,
    prebuffer_s: float = 2.0,
    dead_after_s: float = 3.0,
    silence_db: float = -50.0,
    priority: Priority = Priority.NORMAL,
) -> PlanItem:
    """A relay plan item (``fallback`` is its local fallback media) with test defaults."""
    spec = RelaySpec(
        url=url,
        station="TEST",
        window_s=window_s,
        prebuffer_s=prebuffer_s,
        dead_after_s=dead_after_s,
        silence_db=silence_db,
    )
    return PlanItem(
        item_id=item_id,
        broadcast_id="b-relay",
        title=f"relay {item_id}",
        media=fallback,
        planned_start=planned_start,
        priority=priority,
        relay=spec,
    )


class ControllerStandIn:
    """Signs plans/commands/acks as the controller and collects verified device events.

    It listens with one handler among the transport's others (a test may listen
    beside it); ``unsubscribe()`` stops it listening.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        key: SigningKey | None = None,
        device_keys: dict[str, str] | None = None,
        now: Callable[[], datetime] | None = None,
        auto_ack: bool = False,
    ) -> None:
        self.transport = transport
        self.key = key or SigningKey.generate()
        self.device_keys: dict[str, str] = dict(device_keys or {})
        self.now = now or (lambda: datetime.now(UTC))
        self.auto_ack = auto_ack
        self.events: list[Verified[PlaybackEvent]] = []
        self.rejected: list[RejectedMessage] = []
        self._cond = threading.Condition()
        self.unsubscribe = transport.subscribe(all_devices(DeviceChannel.EVENT), self._on_message)

    @property
    def public_key(self) -> str:
        """The controller public key agents are provisioned with."""
        return self.key.public_key_b64

    def send_plan(self, device_id: str, items: Iterable[PlanItem], version: int) -> Plan:
        """Publish a signed, retained plan."""
        plan = Plan(
            device_id=device_id, version=version, generated_at=self.now(), items=tuple(items)
        )
        self.publish(device_id, DeviceChannel.PLAN, Kind.PLAN, plan, retain=True)
        return plan

    def play_now(
        self, device_id: str, item: PlanItem, *, command_id: str | None = None, ttl_s: float = 60
    ) -> Command:
        """Send a PlayNow command."""
        return self.send_command(device_id, PlayNow(item=item), command_id=command_id, ttl_s=ttl_s)

    def stop_item(self, device_id: str, item_id: str, reason: str = "") -> Command:
        """Send a StopItem command."""
        return self.send_command(device_id, StopItem(item_id=item_id, reason=reason))

    def send_command(
        self,
        device_id: str,
        order: PlayNow | StopItem | ResendEvents,
        *,
        command_id: str | None = None,
        ttl_s: float = 60,
        issued_at: datetime | None = None,
    ) -> Command:
        """Publish a signed command (never retained, with an MQTT expiry)."""
        issued = issued_at or self.now()
        command = Command(
            command_id=command_id or uuid.uuid4().hex,
            device_ids=(device_id,),
            issued_at=issued,
            expires_at=issued + timedelta(seconds=ttl_s),
            order=order,
        )
        self.publish(device_id, DeviceChannel.COMMAND, Kind.COMMAND, command)
        return command

    def ack(self, device_id: str, event_ids: Iterable[str]) -> None:
        """Acknowledge stored events."""
        self.publish(device_id, DeviceChannel.ACK, Kind.ACK, EventAck(event_ids=tuple(event_ids)))

    def publish(
        self,
        device_id: str,
        channel: DeviceChannel,
        kind: Kind,
        body: Plan | Command | EventAck,
        *,
        retain: bool = False,
    ) -> None:
        """Seal ``body`` as the controller and publish it on the device's channel."""
        wire = seal(kind, body, CONTROLLER_SENDER, self.key, self.now())
        self.transport.publish(device_topic(device_id, channel), wire, retain=retain)

    def wait_events(
        self, count: int, timeout_s: float, where: Callable[[PlaybackEvent], bool] | None = None
    ) -> list[PlaybackEvent]:
        """Block until ``count`` matching events arrived (any thread); return them all."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._matching(where)) >= count, timeout_s)
            return self._matching(where)

    def received(self) -> list[PlaybackEvent]:
        """Bodies of the events received so far (duplicates included)."""
        with self._cond:
            return [v.body for v in self.events]

    def _matching(self, where: Callable[[PlaybackEvent], bool] | None) -> list[PlaybackEvent]:
        return [v.body for v in self.events if where is None or where(v.body)]

    def _on_message(self, message: ReceivedMessage) -> None:
        parsed = parse(message.topic)
        if parsed is None or parsed.channel is not DeviceChannel.EVENT:
            return
        try:
            verified = open_envelope(
                message.payload, Kind.EVENT, self.device_keys.get, parsed.device_id
            )
        except RejectedMessage as exc:
            with self._cond:
                self.rejected.append(exc)
            return
        assert isinstance(verified.body, PlaybackEvent)
        with self._cond:
            self.events.append(verified)  # type: ignore[arg-type]
            self._cond.notify_all()
        if self.auto_ack:
            self.ack(parsed.device_id, [verified.body.event_id])
