"""Agent settings and the CLI's provisioning steps (against an httpx mock controller)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from edge_agent import cli
from edge_agent.config import AgentConfig
from edge_agent.wiring import hardware_for, player_for
from firmware_stubs.gpio import SysfsGpioRelay
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.signing import SigningKey

CONTROLLER_KEY = SigningKey.generate().public_key_b64


def test_config_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WARDCAST_AGENT_DEVICE_ID", "to-dan-pho-3")
    monkeypatch.setenv("WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY", CONTROLLER_KEY)
    monkeypatch.setenv("WARDCAST_AGENT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WARDCAST_AGENT_LATE_START_GRACE_S", "10")
    config = AgentConfig()
    assert (config.device_id, config.late_start_grace_s) == ("to-dan-pho-3", 10)
    assert config.key_path == tmp_path / "device.key"
    assert config.resend_interval_s == 30 and config.player == "simulated"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("device_id", "bad/id"),
        ("device_id", "a+b"),
        ("controller_public_key", "not-a-key"),
        ("broker_url", "http://broker"),
        ("volume", 101),
    ],
)
def test_config_refuses_unsafe_values(field: str, value: object) -> None:
    # Any: the field under test gets a wrong value on purpose, through the real constructor.
    values: dict[str, Any] = {"controller_public_key": CONTROLLER_KEY, field: value}
    with pytest.raises(ValidationError):
        AgentConfig(**values)


def test_run_without_a_controller_key_exits_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY", raising=False)
    result = CliRunner().invoke(cli.app, ["run"])
    assert result.exit_code == 2
    assert "controller_public_key" in result.output


def test_wiring_builds_a_gpio_relay_and_alsa_player_for_a_pi(tmp_path: Path) -> None:
    config = AgentConfig(
        controller_public_key=CONTROLLER_KEY,
        relay_driver="sysfs",
        sysfs_root=tmp_path,
        relay_gpio_pin=27,
        player="alsa",
        relay_settle_s=0.3,
    )
    hardware = hardware_for(config, FakeClock())
    assert isinstance(hardware.relay, SysfsGpioRelay) and hardware.relay.pin == 27
    assert player_for(config, FakeClock(), hardware).lead_s == 0.3


class MockController:
    """Just the endpoints `simulate` calls: create a device, new code, enrolment."""

    def __init__(self, key: str = CONTROLLER_KEY) -> None:
        self.key = key
        self.codes: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.auth: list[str | None] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.auth.append(request.headers.get("authorization"))
        path = request.url.path
        if request.method == "POST" and path == "/api/v1/devices":
            device_id = json.loads(request.content)["device_id"]
            if device_id in self.codes or device_id in self.keys:
                return httpx.Response(200, json={"enrolment_code": None})
            self.codes[device_id] = f"CODE-{device_id}"
            return httpx.Response(201, json={"enrolment_code": self.codes[device_id]})
        if request.method == "POST" and path.endswith("/enrolment-code"):
            device_id = path.split("/")[-2]
            self.codes[device_id] = f"CODE2-{device_id}"
            return httpx.Response(201, json={"enrolment_code": self.codes[device_id]})
        if request.method == "POST" and path == "/api/v1/enrolment":
            body = json.loads(request.content)
            if self.codes.pop(body["device_id"], None) != body["code"]:
                return httpx.Response(403, json={"detail": "invalid, used or expired"})
            self.keys[body["device_id"]] = body["public_key"]
            return httpx.Response(
                200,
                json={
                    "device_id": body["device_id"],
                    "broker_url": "mqtts://broker:8883",
                    "username": body["device_id"],
                    "password": "pw-" + body["device_id"],
                    "ca_pem": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
                    "controller_public_key": self.key,
                },
            )
        return httpx.Response(404)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url="http://controller",
            transport=httpx.MockTransport(self.handle),
            headers={"Authorization": "Bearer t0ken"},
        )


def test_simulated_agents_enrol_as_devices_do_and_keep_their_enrolment(tmp_path: Path) -> None:
    controller = MockController()
    with controller.client() as http:
        cli.provision(http, tmp_path / "sim-001", "sim-001")
    config = AgentConfig(data_dir=tmp_path / "sim-001")
    assert (config.device_id, config.broker_url) == ("sim-001", "mqtts://broker:8883")
    assert config.controller_public_key == CONTROLLER_KEY
    assert config.broker_ca_file == tmp_path / "sim-001" / "broker-ca.pem"
    address = config.broker_address()
    assert (address.username, address.password, address.tls) == ("sim-001", "pw-sim-001", True)
    key = SigningKey.load_or_create(tmp_path / "sim-001" / "device.key")
    assert controller.keys == {"sim-001": key.public_key_b64}
    # Restarted: already enrolled, nothing is asked of the controller.
    calls = len(controller.auth)
    with controller.client() as http:
        cli.provision(http, tmp_path / "sim-001", "sim-001")
    assert len(controller.auth) == calls
    assert set(controller.auth) == {"Bearer t0ken"}


def test_a_device_known_to_the_controller_but_not_enrolled_here_gets_a_new_code(
    tmp_path: Path,
) -> None:
    controller = MockController()
    controller.keys["sim-002"] = "someone's key"  # created earlier, data folder lost
    with controller.client() as http:
        cli.provision(http, tmp_path / "sim-002", "sim-002")
    assert AgentConfig(data_dir=tmp_path / "sim-002").device_id == "sim-002"


def test_default_prefix_is_a_valid_device_id_prefix() -> None:
    from wardcast_protocol.topics import is_valid_device_id

    assert is_valid_device_id(f"{cli._default_prefix()}-001")
