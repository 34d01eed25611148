"""Devices enrolled with a running controller, and raw broker logins to probe the broker with.

The security drills connect as a device would (its login, the pinned CA) or as an
intruder would (no login, a wrong one, another CA), and watch what the broker does.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.composition import ControllerRuntime
from controller.domain.devices.enrolment import Credentials
from controller.messaging.broker_accounts import CONTROLLER_USERNAME
from edge_agent.config import AgentConfig
from sim.provisioning import enrol_device
from wardcast_protocol.broker_probe import connect_once, probe_client
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.transport import BrokerAddress


@dataclass(frozen=True)
class EnrolledDevice:
    """A device enrolled through the real service: its key, login and data folder."""

    device_id: str
    key: SigningKey
    credentials: Credentials
    data_dir: Path

    def address(self, ca_file: Path | None = None) -> BrokerAddress:
        """Its broker address, with its own login and (by default) the pinned CA."""
        return BrokerAddress.parse(
            self.credentials.broker_url,
            username=self.credentials.username,
            password=self.credentials.password,
            ca_file=ca_file or self.data_dir / "broker-ca.pem",
        )

    def agent_config(self, **overrides: Any) -> AgentConfig:
        """Settings of an agent running from this device's data folder."""
        # Any: pydantic-settings' constructor takes its fields as keywords.
        values: dict[str, Any] = {
            "data_dir": self.data_dir,
            "relay_settle_s": 0.0,
            "resend_interval_s": 2.0,
            "durable_outbox": False,
        }
        values.update(overrides)
        return AgentConfig(**values)


def enrol(runtime: ControllerRuntime, device_id: str, data_dir: Path) -> EnrolledDevice:
    """Create ``device_id``, enrol it with a fresh key and store its enrolment in ``data_dir``."""
    key, given = enrol_device(runtime, device_id, device_id, data_dir)
    return EnrolledDevice(device_id, key, given, data_dir)


def controller_address(runtime: ControllerRuntime) -> BrokerAddress:
    """The controller's own login (full access), for an observer beside the runtime."""
    address = runtime.broker.controller_address
    assert address is not None and address.username == CONTROLLER_USERNAME
    return address


def link(address: BrokerAddress, client_id: str) -> MqttLink:
    """A started MQTT link (not yet necessarily connected)."""
    made = MqttLink(address, client_id, reconnect_max_s=1)
    made.start()
    return made


def try_connect(address: BrokerAddress, client_id: str, timeout_s: float = 5.0) -> str:
    """Connect once and report how it went: "Success", the broker's reason ("Not
    authorized"…), "tls: …" when the TLS handshake fails, or "no answer"."""
    client = probe_client(address, client_id)
    try:
        answer = connect_once(client, address, timeout_s)
    except ssl.SSLError as exc:
        return f"tls: {exc.reason or exc}"
    except OSError as exc:
        return f"socket: {exc}"
    return answer if answer is not None else "no answer"
