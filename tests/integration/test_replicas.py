"""Two controller processes on one PostgreSQL and one mosquitto (docs/scale.md).

Both run ``wardcast serve`` with the same share group: device traffic reaches them
through MQTT v5 shared subscriptions, each message one of them. Devices publish signed
events, each twice (a QoS 1 redelivery), and resend what is not acknowledged, as an
agent does: every event is stored exactly once, both replicas stored some, and the
scheduled jobs run on one replica only, the other taking over when it stops.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from controller.db.models import Device, PlaybackEvidence
from controller.db.session import Database
from controller.domain.devices.service import register_device
from controller.domain.plans.planned import record_command
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from edge_agent.controller_stand_in import plan_item
from edge_agent.evidence import EvidenceLog, PlayFacts
from edge_agent.inbox import open_inbound
from edge_agent.outbox import Outbox
from edge_agent.outbox_rows import StoredEvent
from tests.support.local_postgres import LocalPostgres
from tests.support.processes import start_serve, stop_process
from wardcast_protocol.clock import SystemClock
from wardcast_protocol.messages import EventAck, MediaRef, Outcome
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

DEVICES = [f"rep-{n}" for n in range(6)]
EVENTS_PER_DEVICE = 5
METRICS_TOKEN = "replicas-test-metrics-token"
LEADS = "now runs the scheduled jobs"
MEDIA = MediaRef(
    sha256="0" * 64,
    url="http://127.0.0.1/x.ogg",
    duration_s=5.0,
    size_bytes=1,
    content_type="audio/ogg",
)


class Replica:
    """``wardcast serve`` as a process of its own, one of a share group."""

    def __init__(self, name: str, root: Path, database_url: str, broker_url: str, key: Path):
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = root / f"{name}.log"
        self.env = os.environ | {
            "WARDCAST_DATA_DIR": str(root / name),
            "WARDCAST_DATABASE_URL": database_url,
            "WARDCAST_BROKER_URL": broker_url,
            "WARDCAST_CONTROLLER_KEY_PATH": str(key),  # one controller, whichever replica
            "WARDCAST_MQTT_SHARE_GROUP": "wardcast",
            "WARDCAST_REPLICA_ID": name,
            "WARDCAST_LEADER_POLL_S": "0.5",
            "WARDCAST_METRICS_TOKEN": METRICS_TOKEN,
            "WARDCAST_GTTS_ENABLED": "false",
            "WARDCAST_ENVIRONMENT": "test",
        }
        port = self.url.rsplit(":", 1)[1]
        self.proc = start_serve(port, self.env, self.log, log_level="INFO")

    def wait_healthy(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.text()[-3000:]
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"replica did not start:\n{self.text()[-3000:]}")

    def job_runs(self) -> float:
        """Scheduled job runs of this process, from its Prometheus metrics."""
        got = httpx.get(
            f"{self.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
        )
        assert got.status_code == 200, got.text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in got.text.splitlines()
            if line.startswith("wardcast_scheduler_runs_total{")
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.proc, 20)


def _seed(database_url: str, tmp: Path) -> dict[str, list[StoredEvent]]:
    """Devices, the items planned on them, and each device's signed, chained events."""
    db = Database(database_url)
    db.migrate()
    now = datetime.now(UTC)
    events: dict[str, list[StoredEvent]] = {}
    with db.session() as session:
        for device_id in DEVICES:
            key = SigningKey.generate()
            register_device(session, device_id, device_id, key.public_key_b64, now)
            device = session.get(Device, device_id)
            assert device is not None
            log = EvidenceLog(
                Outbox(tmp / f"{device_id}.db", durable=False), key, device_id, SystemClock()
            )
            events[device_id] = []
            for n in range(EVENTS_PER_DEVICE):
                item = plan_item(f"{device_id}-i{n}", MEDIA, now - timedelta(minutes=10 - n))
                record_command(session, device, item, now)
                facts = PlayFacts(Outcome.COMPLETED, actual_start=item.planned_start, played_s=5.0)
                _, ready = log.record(item, facts)
                events[device_id].extend(ready)
    db.dispose()
    return events


def test_two_replicas_share_ingest_store_each_event_once_and_one_runs_the_jobs(
    postgres: LocalPostgres, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    database_url = postgres.create_database("wardcast_replicas")
    events = _seed(database_url, tmp_path)
    key = tmp_path / "controller.key"
    controller_key = SigningKey.generate()
    controller_key.save(key)
    replicas = [Replica(n, tmp_path, database_url, broker.url, key) for n in ("r1", "r2")]
    link = MqttLink(BrokerAddress.parse(broker.url), "replica-test-devices")
    acked: set[str] = set()
    lock = threading.Lock()

    def on_ack(message: ReceivedMessage) -> None:
        device_id = message.topic.split("/")[-2]
        body = open_inbound(
            message.topic, message.payload, device_id, controller_key.public_key_b64
        )
        if isinstance(body, EventAck):
            with lock:
                acked.update(body.event_ids)

    try:
        for replica in replicas:
            replica.wait_healthy()
        for device_id in DEVICES:
            link.subscribe(device_topic(device_id, DeviceChannel.ACK), on_ack)
        link.start()
        assert link.wait_connected(10)
        every = {e.event_id: (d, e) for d, stored in events.items() for e in stored}
        for _ in range(2):  # each event twice, as a QoS 1 redelivery does
            for device_id, stored in events.items():
                for event in stored:
                    link.publish(device_topic(device_id, DeviceChannel.EVENT), event.wire)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(1.0)
            with lock:
                missing = [every[i] for i in every if i not in acked]
            if not missing:
                break
            for device_id, event in missing:  # an agent resends what is not acknowledged
                link.publish(device_topic(device_id, DeviceChannel.EVENT), event.wire)
        assert not missing, f"{len(missing)} events never acknowledged"

        db = Database(database_url)
        with db.session() as session:
            per_event = session.execute(
                select(PlaybackEvidence.event_id, func.count()).group_by(PlaybackEvidence.event_id)
            ).all()
            assert {event_id for event_id, _ in per_event} == set(every)
            assert all(count == 1 for _, count in per_event)
            advisory = session.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            )
            assert advisory == 1  # one leader
        db.dispose()
        logs = [replica.text() for replica in replicas]
        stored_by = [log.count("evidence ") for log in logs]
        assert all(n > 0 for n in stored_by), f"the share group did not share: {stored_by}"
        leaders = [i for i, log in enumerate(logs) if LEADS in log]
        assert len(leaders) == 1, leaders
        leader = leaders[0]
        follower = 1 - leader
        # The backfill job runs at start, on the leader only.
        assert replicas[leader].job_runs() >= 1
        assert replicas[follower].job_runs() == 0

        # The leader stops: the other replica takes the jobs over.
        replicas[leader].stop()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and LEADS not in replicas[follower].text():
            time.sleep(0.2)
        assert LEADS in replicas[follower].text()
    finally:
        link.stop()
        for replica in replicas:
            replica.stop()
