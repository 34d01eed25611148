"""`wardcast-agent run` as a real process: env settings, real broker, SIGTERM stops it cleanly."""

from __future__ import annotations

import queue
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.messaging.broker import EmbeddedBroker
from edge_agent.controller_stand_in import ControllerStandIn, plan_item
from tests.integration.test_agent_fleet import MediaServer
from tests.support.processes import agent_env, start_agent
from wardcast_protocol.envelope import open_envelope
from wardcast_protocol.messages import Availability, Kind, Outcome
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress

pytestmark = pytest.mark.integration

DEVICE = "cli-01"


def test_agent_run_plays_confirms_and_says_offline_on_sigterm(
    tmp_path: Path, broker: EmbeddedBroker
) -> None:
    media = MediaServer()
    link = MqttLink(BrokerAddress.parse(broker.url), "cli-controller")
    availability: queue.Queue[bytes] = queue.Queue()
    controller = ControllerStandIn(link)
    # A second handler on the stand-in's link: both hear what they subscribed to.
    link.subscribe(
        device_topic(DEVICE, DeviceChannel.AVAILABILITY), lambda m: availability.put(m.payload)
    )
    link.start()
    assert link.wait_connected(5)
    key = SigningKey.load_or_create(tmp_path / "device.key")
    controller.device_keys[DEVICE] = key.public_key_b64
    env = agent_env(DEVICE, controller.public_key, tmp_path, broker.url)
    log_path = tmp_path / "agent.log"
    proc = start_agent(env, log_path)
    try:
        keys = {DEVICE: key.public_key_b64}.get
        online = open_envelope(availability.get(timeout=10), Kind.AVAILABILITY, keys)
        assert online.body == Availability(state="online")
        clip = media.add("c.wav", b"RIFF" * 100, duration_s=0.5)
        planned = datetime.now(UTC) + timedelta(seconds=1.5)
        controller.send_plan(DEVICE, [plan_item("cli-item", clip, planned)], version=1)
        [event] = controller.wait_events(1, timeout_s=10)
        assert event.outcome is Outcome.COMPLETED
        assert event.actual_start is not None
        assert abs((event.actual_start - planned).total_seconds()) < 0.5
        assert (event.amplifier_on, event.volume) == (True, 80)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0, log_path.read_text()
        offline = open_envelope(availability.get(timeout=5), Kind.AVAILABILITY, keys)
        assert offline.body == Availability(state="offline")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        link.stop()
        media.close()
