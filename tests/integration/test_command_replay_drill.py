"""Drill: a play_now captured on device A's topic and replayed on device B's, against mosquitto.

The attacker holds a client the broker lets publish on B's command topic: the plain
broker of the ``broker`` fixture, open to anyone (what the broker was before issue 8,
or one whose ACLs are gone), and the controller's closed broker with the controller's
own login (the only one its ACLs let publish there: suppose it leaked). It republishes
the controller's signed bytes, untouched, on B's topic — live, and retained for B's next
start. B must play nothing, log and report both refusals, and the controller must keep
them as security records; and an event B might send for A's item anyway is never evidence.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.composition import ControllerRuntime
from controller.db.models import PlaybackEvidence, SecurityRecord
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.devices.service import register_device
from controller.domain.evidence.security import list_security_records
from controller.messaging.broker import EmbeddedBroker
from controller.settings import Settings
from edge_agent.config import AgentConfig
from edge_agent.fleet import AgentFleet
from tests.support.drills import evidence_of, seed_approved_bulletin, wait_for
from tests.support.enrolled import controller_address, enrol, link
from wardcast_protocol.envelope import CONTROLLER_SENDER, open_envelope, seal
from wardcast_protocol.messages import (
    Command,
    EventAck,
    Kind,
    Outcome,
    PlaybackEvent,
    PlayNow,
    Trigger,
)
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

A, B = "to-a", "to-b"
SHA = "ab" * 32


def _wait(predicate: Callable[[], bool], timeout_s: float = 15) -> bool:
    return wait_for(predicate, timeout_s)


def _seed(rt: ControllerRuntime) -> None:
    """An approved bulletin with its (stand-in) audio, ready to broadcast."""
    seed_approved_bulletin(rt, "bul-1", SHA, "Cắt nước", "Ngày mai cắt nước.")


@pytest.fixture
def runtime(tmp_path: Path, broker: EmbeddedBroker) -> Iterator[ControllerRuntime]:
    settings = Settings(
        data_dir=tmp_path / "controller",
        broker_url=broker.url,
        gtts_enabled=False,
        environment="test",
    )
    rt = ControllerRuntime(settings, run_maintenance=False, prepare_chime=False)
    rt.start()
    with rt.db.session() as session:
        for device_id in (A, B):
            key = SigningKey.load_or_create(tmp_path / device_id / "device.key")
            register_device(session, device_id, device_id, key.public_key_b64, rt.clock.now())
    _seed(rt)
    try:
        yield rt
    finally:
        rt.stop()


def _fleet_of_b(tmp_path: Path, broker: EmbeddedBroker, runtime: ControllerRuntime) -> AgentFleet:
    config = AgentConfig(
        device_id=B,
        controller_public_key=runtime.key.public_key_b64,
        data_dir=tmp_path / B,
        broker_url=broker.url,
        relay_settle_s=0,
        resend_interval_s=1,
        durable_outbox=False,
    )
    fleet = AgentFleet([config]).start()
    assert fleet.wait_ready(15)
    return fleet


def _device_records(runtime: ControllerRuntime, device_id: str) -> list[SecurityRecord]:
    with runtime.db.session() as session:
        return list(list_security_records(session, device_id=device_id))


def _evidence_of(runtime: ControllerRuntime, device_id: str) -> list[PlaybackEvidence]:
    return evidence_of(runtime, device_id)


def test_a_play_now_replayed_on_another_device_plays_nothing_and_is_reported(
    tmp_path: Path, broker: EmbeddedBroker, runtime: ControllerRuntime
) -> None:
    attacker = MqttLink(BrokerAddress.parse(broker.url), "eve")
    captured: queue.Queue[bytes] = queue.Queue()
    attacker.subscribe(device_topic(A, DeviceChannel.COMMAND), lambda m: captured.put(m.payload))
    attacker.start()
    assert attacker.wait_connected(5)
    fleet = _fleet_of_b(tmp_path, broker, runtime)
    try:
        broadcast = runtime.broadcasts.schedule(BroadcastRequest("bul-1", [A], None))
        stolen = captured.get(timeout=5)
        key = runtime.key.public_key_b64
        command = open_envelope(
            stolen, Kind.COMMAND, lambda s: key if s == CONTROLLER_SENDER else None
        ).body
        assert isinstance(command, Command) and isinstance(command.order, PlayNow)
        assert command.device_ids == (A,)

        # Live on B's topic, and retained there for B's next start.
        attacker.publish(device_topic(B, DeviceChannel.COMMAND), stolen, retain=True)
        assert _wait(lambda: len(_device_records(runtime, B)) >= 1)
        fleet.stop()
        fleet = _fleet_of_b(tmp_path, broker, runtime)
        assert _wait(lambda: len(_device_records(runtime, B)) >= 2)

        [agent] = fleet.agents.values()
        assert fleet.call(lambda: agent.stats.plays_started) == 0
        assert fleet.call(lambda: agent.pending_events()) == []
        reasons = [e.reason for e in fleet.call(lambda: agent.security.entries())]
        assert reasons == ["retained", "not_addressed"]  # newest first, both on B's disk
        records = _device_records(runtime, B)
        assert sorted(r.reason for r in records) == ["not_addressed", "retained"]
        for record in records:
            assert record.origin == "device"
            assert record.command_id == command.command_id
            assert record.item_id == broadcast.id
            assert record.topic == device_topic(B, DeviceChannel.COMMAND)
        # Acknowledged: B's log holds nothing left to send.
        assert _wait(lambda: fleet.call(lambda: agent.security.unacked()) == [])
        assert _evidence_of(runtime, B) == []
    finally:
        fleet.stop()
        attacker.publish(device_topic(B, DeviceChannel.COMMAND), b"", retain=True)
        attacker.stop()


def test_an_event_for_an_item_planned_on_another_device_is_never_evidence(
    tmp_path: Path, broker: EmbeddedBroker, runtime: ControllerRuntime
) -> None:
    # An agent that does not check (an old one, or a forged play) signs a "completed".
    broadcast = runtime.broadcasts.schedule(BroadcastRequest("bul-1", [A], None))
    device = MqttLink(BrokerAddress.parse(broker.url), B)
    acks: queue.Queue[bytes] = queue.Queue()
    device.subscribe(device_topic(B, DeviceChannel.ACK), lambda m: acks.put(m.payload))
    device.start()
    assert device.wait_connected(5)
    try:
        now = datetime.now(UTC)
        event = PlaybackEvent(
            event_id="ev-b-1",
            device_id=B,
            seq=1,
            prev_hash="",
            item_id=broadcast.id,
            broadcast_id=broadcast.id,
            trigger=Trigger.MANUAL,
            planned_start=broadcast.planned_start,
            planned_duration_s=12.0,
            actual_start=broadcast.planned_start + timedelta(milliseconds=50),
            played_duration_s=12.0,
            outcome=Outcome.COMPLETED,
            recorded_at=now,
        )
        key = SigningKey.load_or_create(tmp_path / B / "device.key")
        device.publish(device_topic(B, DeviceChannel.EVENT), seal(Kind.EVENT, event, B, key, now))
        controller_key = runtime.key.public_key_b64
        ack = open_envelope(
            acks.get(timeout=5),
            Kind.ACK,
            lambda s: controller_key if s == CONTROLLER_SENDER else None,
        ).body
        assert isinstance(ack, EventAck)
        assert (ack.event_ids, ack.refused_event_ids) == ((), ("ev-b-1",))
        assert _evidence_of(runtime, B) == []
        (record,) = _device_records(runtime, B)
        assert (record.origin, record.reason, record.event_id) == (
            "controller",
            "unplanned_item",
            "ev-b-1",
        )
    finally:
        device.stop()


def test_even_the_controllers_own_broker_login_cannot_make_b_play_a_replay(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    # The closed broker lets no device publish on another's topics; only the controller's
    # login may publish on B's command topic. Suppose it leaked: B still refuses.
    runtime = closed_controller
    enrol(runtime, A, tmp_path / A)
    b = enrol(runtime, B, tmp_path / B)
    _seed(runtime)
    attacker = link(controller_address(runtime), "eve")
    captured: queue.Queue[bytes] = queue.Queue()
    attacker.subscribe(device_topic(A, DeviceChannel.COMMAND), lambda m: captured.put(m.payload))
    assert attacker.wait_connected(5)
    fleet = AgentFleet([b.agent_config()]).start()
    try:
        assert fleet.wait_ready(15)
        broadcast = runtime.broadcasts.schedule(BroadcastRequest("bul-1", [A], None))
        attacker.publish(device_topic(B, DeviceChannel.COMMAND), captured.get(timeout=5))
        assert _wait(lambda: len(_device_records(runtime, B)) >= 1)
        [agent] = fleet.agents.values()
        assert fleet.call(lambda: agent.stats.plays_started) == 0
        (record,) = _device_records(runtime, B)
        assert (record.reason, record.item_id) == ("not_addressed", broadcast.id)
        assert _evidence_of(runtime, B) == []
    finally:
        fleet.stop()
        attacker.stop()
