"""The device's side of enrolment: the printable line, the stored login, the settings it fills."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from edge_agent import cli
from edge_agent.config import AgentConfig
from edge_agent.enrolment import (
    Enrolment,
    EnrolmentFailed,
    enrol,
    load_enrolment,
    parse_line,
    store_enrolment,
)
from wardcast_protocol.signing import SigningKey

CONTROLLER_KEY = SigningKey.generate().public_key_b64
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _enrolment(device_id: str = "to-3") -> Enrolment:
    return Enrolment(device_id, "mqtts://10.0.0.2:8883", device_id, "s3cret", CONTROLLER_KEY, CA)


def test_the_printable_line_names_controller_device_and_code() -> None:
    line = parse_line(" wardcast-enrol:http://10.0.0.2:8000/|to-3|ABCD-EFGH-JKMN-PQRS\n")
    assert (line.controller_url, line.device_id, line.code) == (
        "http://10.0.0.2:8000",
        "to-3",
        "ABCD-EFGH-JKMN-PQRS",
    )


@pytest.mark.parametrize(
    "line",
    [
        "http://c|to-3|CODE",
        "wardcast-enrol:http://c|to-3",
        "wardcast-enrol:ftp://c|to-3|CODE",
        "wardcast-enrol:http://c|to/3|CODE",
        "wardcast-enrol:http://c||CODE",
    ],
)
def test_a_malformed_line_is_refused(line: str) -> None:
    with pytest.raises(ValueError):
        parse_line(line)


def test_the_stored_enrolment_fills_the_settings_and_keeps_the_login_private(
    tmp_path: Path,
) -> None:
    store_enrolment(tmp_path, _enrolment())
    assert (tmp_path / "enrolment.json").stat().st_mode & 0o077 == 0
    assert "s3cret" not in (tmp_path / "broker-ca.pem").read_text()
    assert load_enrolment(tmp_path) == _enrolment()
    config = AgentConfig(data_dir=tmp_path)
    assert (config.device_id, config.mqtt_username) == ("to-3", "to-3")
    assert config.controller_public_key == CONTROLLER_KEY
    assert "s3cret" not in repr(config)
    address = config.broker_address()
    assert (address.host, address.port, address.tls, address.password) == (
        "10.0.0.2",
        8883,
        True,
        "s3cret",
    )
    assert address.ca_file == str(tmp_path / "broker-ca.pem")
    # Explicit settings still win, but a different device id is a mistake, not a choice.
    assert AgentConfig(data_dir=tmp_path, broker_url="mqtts://other:1").broker_url.endswith("1")
    with pytest.raises(ValidationError, match="differs from the enrolment"):
        AgentConfig(data_dir=tmp_path, device_id="to-4")


def test_an_agent_neither_enrolled_nor_given_a_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="enrol this device first"):
        AgentConfig(data_dir=tmp_path)


def _controller(status: int, body: Mapping[str, object]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/enrolment"
        assert json.loads(request.content)["code"] == "ABCD-EFGH-JKMN-PQRS"
        return httpx.Response(status, json=body)

    return httpx.Client(base_url="http://c", transport=httpx.MockTransport(handle))


def test_enrol_generates_the_key_and_stores_the_answer(tmp_path: Path) -> None:
    answer = {
        "device_id": "to-3",
        "broker_url": "mqtts://10.0.0.2:8883",
        "username": "to-3",
        "password": "s3cret",
        "ca_pem": CA,
        "controller_public_key": CONTROLLER_KEY,
    }
    with _controller(200, answer) as http:
        done = enrol(http, tmp_path, "to-3", "ABCD-EFGH-JKMN-PQRS")
    assert done == _enrolment()
    assert (tmp_path / "device.key").exists()
    assert load_enrolment(tmp_path) == done


@pytest.mark.parametrize(("status", "says"), [(403, "wrong, already used"), (409, "another key")])
def test_a_refusal_says_what_to_do(tmp_path: Path, status: int, says: str) -> None:
    with _controller(status, {}) as http, pytest.raises(EnrolmentFailed, match=says):
        enrol(http, tmp_path, "to-3", "ABCD-EFGH-JKMN-PQRS")
    assert load_enrolment(tmp_path) is None


def test_an_answer_with_a_bad_controller_key_is_refused(tmp_path: Path) -> None:
    answer = {
        "device_id": "to-3",
        "broker_url": "mqtts://h:1",
        "username": "to-3",
        "password": "p",
        "controller_public_key": "nope",
    }
    with _controller(200, answer) as http, pytest.raises(EnrolmentFailed):
        enrol(http, tmp_path, "to-3", "ABCD-EFGH-JKMN-PQRS")


def test_the_enrol_command_wants_a_line_or_all_three_parts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli.app, ["enrol", "--device-id", "to-3", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--line" in result.output
    result = CliRunner().invoke(cli.app, ["enrol", "--line", "wardcast-enrol:nonsense"])
    assert result.exit_code == 2 and "cannot enrol" in result.output
