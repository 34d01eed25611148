"""kill -9 of `wardcast-agent run` eight seconds into a play: the restarted agent reports
the eight seconds (it said "failed, played 0.0 s").
"""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.messaging.broker import EmbeddedBroker
from edge_agent.controller_stand_in import ControllerStandIn, plan_item
from tests.integration.test_agent_fleet import MediaServer
from tests.support.processes import agent_env, start_agent
from wardcast_protocol.messages import Outcome
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.transport import BrokerAddress

pytestmark = pytest.mark.integration

DEVICE = "crash-01"


def test_a_play_cut_by_kill_9_is_reported_with_the_seconds_it_played(
    tmp_path: Path, broker: EmbeddedBroker
) -> None:
    media = MediaServer()
    link = MqttLink(BrokerAddress.parse(broker.url), "crash-controller")
    controller = ControllerStandIn(link)
    link.start()
    assert link.wait_connected(5)
    key = SigningKey.load_or_create(tmp_path / "device.key")
    controller.device_keys[DEVICE] = key.public_key_b64
    env = agent_env(DEVICE, controller.public_key, tmp_path, broker.url)
    log_path = tmp_path / "agent.log"
    proc = start_agent(env, log_path)
    again: subprocess.Popen[bytes] | None = None
    try:
        clip = media.add("long.wav", b"RIFF" * 100, duration_s=60)
        planned = datetime.now(UTC) + timedelta(seconds=3)
        controller.send_plan(DEVICE, [plan_item("crash-item", clip, planned)], version=1)
        time.sleep(max(0.0, (planned - datetime.now(UTC)).total_seconds()) + 8)
        proc.send_signal(signal.SIGKILL)  # mid-play: nothing recorded, nothing said
        proc.wait(10)
        assert controller.received() == []

        again = start_agent(env, log_path)
        [event] = controller.wait_events(1, timeout_s=15)
        assert event.item_id == "crash-item"
        assert event.outcome is Outcome.FAILED
        assert event.reason == "agent restarted during playback"
        assert event.played_duration_s == pytest.approx(8, abs=1), log_path.read_text()
        assert event.actual_start is not None
        assert abs((event.actual_start - planned).total_seconds()) < 0.5
    finally:
        for process in (proc, again):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        link.stop()
        media.close()
