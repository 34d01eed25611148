"""Ingest workers on a real PostgreSQL and a real mosquitto (docs/scale.md, ingest).

A controller with ``WARDCAST_INGEST_WORKERS=2`` hands device events to two worker
processes, each device's to one. Devices send signed, chained events, each twice (a
QoS 1 redelivery), plus a forged and a malformed payload, and resend what is not
acknowledged: every event is stored once and acknowledged, the bad payloads are
refused with their reasons and never acknowledged, the counts and metrics reach the
controller process. A worker killed is started again, and what devices send after
is stored and acknowledged. A device enrolled again is checked with its new key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from controller.composition import ControllerRuntime
from controller.db.models import Device, PlaybackEvidence, RejectedMessageLog
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from controller.messaging.ingest_workers import IngestWorkers
from controller.metrics.registry import EVIDENCE_STORED
from controller.settings import Settings
from edge_agent.inbox import open_inbound
from edge_agent.outbox_rows import StoredEvent
from tests.integration.test_replicas import _seed
from tests.support.local_postgres import LocalPostgres
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import EventAck, Kind, Outcome, PlaybackEvent, Trigger
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def runtime(
    postgres: LocalPostgres, broker: EmbeddedBroker, tmp_path: Path
) -> Iterator[tuple[ControllerRuntime, dict[str, list[StoredEvent]]]]:
    url = postgres.create_database("wardcast_ingest_workers")
    events = _seed(url, tmp_path / "agents")
    settings = Settings(
        data_dir=tmp_path / "controller",
        database_url=url,
        broker_url=broker.url,
        http_port=free_port(),
        gtts_enabled=False,
        environment="test",
        ingest_workers=2,
    )
    runtime = ControllerRuntime(settings, run_maintenance=False, prepare_chime=False)
    runtime.start()
    yield runtime, events
    runtime.stop()


class Devices:
    """The devices' side: one link publishing their events, hearing their acks."""

    def __init__(self, runtime: ControllerRuntime, broker_url: str, devices: list[str]) -> None:
        self.key = runtime.key.public_key_b64
        self.acked: set[str] = set()
        self.refused: set[str] = set()  # acknowledged as refused evidence (security records)
        self.lock = threading.Lock()
        self.link = MqttLink(BrokerAddress.parse(broker_url), "ingest-workers-devices")
        for device_id in devices:
            self.link.subscribe(device_topic(device_id, DeviceChannel.ACK), self.on_ack)
        self.link.start()
        assert self.link.wait_connected(10)

    def on_ack(self, message: ReceivedMessage) -> None:
        body = open_inbound(message.topic, message.payload, message.topic.split("/")[-2], self.key)
        if isinstance(body, EventAck):
            with self.lock:
                self.acked.update(body.event_ids)
                self.refused.update(body.refused_event_ids)

    def send(self, device_id: str, payload: bytes) -> None:
        self.link.publish(device_topic(device_id, DeviceChannel.EVENT), payload)

    def until_acked(self, events: dict[str, list[StoredEvent]]) -> None:
        """Resend what is not acknowledged (as an agent does) until all is."""
        every = {e.event_id: (d, e) for d, stored in events.items() for e in stored}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.5)
            with self.lock:
                missing = [every[i] for i in every if i not in self.acked]
            if not missing:
                return
            for device_id, event in missing:
                self.send(device_id, event.wire)
        raise AssertionError(f"{len(missing)} events never acknowledged")


def test_workers_store_each_event_once_refuse_bad_payloads_and_survive_a_crash(
    runtime: tuple[ControllerRuntime, dict[str, list[StoredEvent]]], broker: EmbeddedBroker
) -> None:
    controller, events = runtime
    workers = controller.bridge.workers
    assert isinstance(workers, IngestWorkers) and workers.started and workers.count == 2
    stored_before = EVIDENCE_STORED.labels("completed")._value.get()
    devices = Devices(controller, broker.url, list(events))
    first = {d: stored[:3] for d, stored in events.items()}
    rest = {d: stored[3:] for d, stored in events.items()}
    a_device = next(iter(events))
    wire = first[a_device][0].wire
    try:
        for _ in range(2):  # each event twice, as a QoS 1 redelivery does
            for device_id, stored in first.items():
                for event in stored:
                    devices.send(device_id, event.wire)
        devices.send(a_device, wire.replace(b'"sig":"', b'"sig":"AAAA'))  # forged
        devices.send(a_device, b'{"signed": 5, "sig": "x"}')  # malformed
        devices.until_acked(first)
        assert workers.wait_idle(30)

        with controller.db.session() as session:
            per_event = session.execute(
                select(PlaybackEvidence.event_id, func.count()).group_by(PlaybackEvidence.event_id)
            ).all()
            reasons = set(session.scalars(select(RejectedMessageLog.reason)))
        assert {e for e, _ in per_event} == {e.event_id for s in first.values() for e in s}
        assert all(count == 1 for _, count in per_event)
        assert {"bad_signature", "malformed"} <= reasons, reasons
        total = sum(len(s) for s in first.values())
        assert controller.bridge.stored_events == total  # counted in this process
        assert EVIDENCE_STORED.labels("completed")._value.get() - stored_before == total
        assert controller.bridge.rejected >= 2

        # A worker dies: it is started again, and its devices' next events are stored.
        procs = workers._procs
        procs[0].kill()
        deadline = time.monotonic() + 30
        while workers.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert workers.restarts == 1
        for device_id, stored in rest.items():
            for event in stored:
                devices.send(device_id, event.wire)
        devices.until_acked(events)
        with controller.db.session() as session:
            rows = session.scalar(select(func.count()).select_from(PlaybackEvidence))
        assert rows == sum(len(s) for s in events.values())

        # A device enrolled again with a new key: its worker checks its events with that key.
        new_key = SigningKey.generate()
        with controller.db.session() as session:
            session.get_one(Device, a_device).public_key = new_key.public_key_b64
        controller.bridge.forget_key(a_device)  # as the registry does when it writes a key
        now = datetime.now(UTC)
        fresh = PlaybackEvent(
            event_id="ev-new-key", device_id=a_device, seq=99, prev_hash="", item_id="unplanned",
            broadcast_id="unplanned", trigger=Trigger.MANUAL, planned_start=now,
            planned_duration_s=1.0, actual_start=now, played_duration_s=1.0,
            outcome=Outcome.COMPLETED, recorded_at=now,
        )  # fmt: skip
        devices.send(a_device, seal(Kind.EVENT, fresh, a_device, new_key, now))
        deadline = time.monotonic() + 30
        while "ev-new-key" not in devices.refused and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "ev-new-key" in devices.refused  # verified (then refused: never planned)
    finally:
        devices.link.stop()
