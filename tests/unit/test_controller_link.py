"""The controller's own MQTT link: how it is built for the broker it talks to."""

from __future__ import annotations

from pathlib import Path

from controller.composition import CONTROLLER_RECONNECT_MAX_S, ControllerRuntime
from controller.settings import Settings
from wardcast_protocol.mqtt_link import MqttLink


def test_the_controller_retries_its_broker_every_few_seconds_not_every_thirty(
    tmp_path: Path,
) -> None:
    # An emergency sent during a broker restart waits in this link's queue: with paho's
    # doubling up to 30 s it left up to 30 s after the broker was back
    # (tests/integration/test_outage_drill.py); the controller is one client per
    # replica, so retrying often costs the broker nothing.
    settings = Settings(
        data_dir=tmp_path, environment="test", broker_url="mqtt://127.0.0.1:1", gtts_enabled=False
    )
    runtime = ControllerRuntime(settings, run_maintenance=False, prepare_chime=False)
    try:
        assert isinstance(runtime.transport, MqttLink)
        assert runtime.transport.reconnect_max_s == CONTROLLER_RECONNECT_MAX_S <= 2
    finally:
        runtime.db.dispose()
