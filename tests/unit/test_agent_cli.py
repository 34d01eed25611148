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
    """Just the two endpoints `simulate` calls."""

    def __init__(self, key: str = CONTROLLER_KEY, *, conflict_on_repeat: bool = False) -> None:
        self.key = key
        self.conflict_on_repeat = conflict_on_repeat
        self.devices: dict[str, str] = {}
        self.auth: list[str | None] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.auth.append(request.headers.get("authorization"))
        if request.url.path == "/api/v1/system/controller-key":
            return httpx.Response(200, json={"public_key": self.key})
        if request.method == "POST" and request.url.path == "/api/v1/devices":
            body = json.loads(request.content)
            known = self.devices.get(body["device_id"])
            if known is None:
                self.devices[body["device_id"]] = body["public_key"]
                return httpx.Response(201, json=body)
            same = known == body["public_key"] and not self.conflict_on_repeat
            return httpx.Response(200 if same else 409, json={})
        device_id = request.url.path.rsplit("/", 1)[-1]
        if device_id in self.devices:
            return httpx.Response(200, json={"public_key": self.devices[device_id]})
        return httpx.Response(404)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url="http://controller",
            transport=httpx.MockTransport(self.handle),
            headers={"Authorization": "Bearer t0ken"},
        )


def test_controller_key_is_trusted_on_first_use_then_pinned(tmp_path: Path) -> None:
    controller = MockController()
    with controller.client() as http:
        assert cli._controller_key(http, tmp_path, wait_s=0) == CONTROLLER_KEY
    assert (tmp_path / "controller.pub").read_text().strip() == CONTROLLER_KEY
    controller.key = SigningKey.generate().public_key_b64
    with controller.client() as http, pytest.raises(RuntimeError, match="key changed"):
        cli._controller_key(http, tmp_path, wait_s=0)


@pytest.mark.parametrize("conflict_on_repeat", [False, True])
def test_register_accepts_same_key_again_and_refuses_another(conflict_on_repeat: bool) -> None:
    controller = MockController(conflict_on_repeat=conflict_on_repeat)
    key = SigningKey.generate()
    with controller.client() as http:
        cli._register(http, "sim-001", key)
        cli._register(http, "sim-001", key)  # restart of the simulator: fine
        with pytest.raises(RuntimeError, match="another key"):
            cli._register(http, "sim-001", SigningKey.generate())
    assert controller.devices == {"sim-001": key.public_key_b64}
    assert set(controller.auth) == {"Bearer t0ken"}


def test_default_prefix_is_a_valid_device_id_prefix() -> None:
    from wardcast_protocol.topics import is_valid_device_id

    assert is_valid_device_id(f"{cli._default_prefix()}-001")
