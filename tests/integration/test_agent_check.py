"""``wardcast-agent check`` as an installer runs it: a real process against the controller's
closed broker (TLS, a login per device) and its HTTP API, for an enrolled device.

NTP is stood in by a ``timedatectl`` on PATH that answers as systemd's would, so the
clock line depends on the controller's clock, not on this machine's time service.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.api.app import create_app
from controller.api.server import BackgroundServer
from controller.composition import ControllerRuntime
from controller.messaging.broker_host import free_port
from tests.support.enrolled import EnrolledDevice, enrol

pytestmark = pytest.mark.integration


@pytest.fixture
def api(closed_controller: ControllerRuntime) -> Iterator[str]:
    """The controller's HTTP API (its health endpoint gives the clock check the time)."""
    port = free_port()
    server = BackgroundServer(create_app(runtime=closed_controller), "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _timedatectl(folder: Path, answer: str) -> Path:
    folder.mkdir(exist_ok=True)
    fake = folder / "timedatectl"
    fake.write_text(f"#!/bin/sh\necho {answer}\n", encoding="ascii")
    fake.chmod(0o755)
    return folder


def check(
    device: EnrolledDevice, controller_url: str, tmp_path: Path, ntp: str = "yes", **env: str
) -> tuple[int, dict[str, str], str]:
    """Run the check; its exit status, each check's line by name, and all it printed."""
    path = _timedatectl(tmp_path / "bin", ntp)
    done = subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", "check", "--tone-s", "0.3"],
        env={
            **os.environ,
            "PATH": f"{path}:{os.environ['PATH']}",
            "WARDCAST_AGENT_DATA_DIR": str(device.data_dir),
            "WARDCAST_AGENT_PLAYER": "simulated",
            "WARDCAST_AGENT_RELAY_SETTLE_S": "0",
            "WARDCAST_CONTROLLER_URL": controller_url,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = {}
    for line in done.stdout.splitlines():
        status, _, rest = line.partition(" ")
        if status in ("OK", "FAIL"):
            lines[rest.strip().split(":", 1)[0]] = line
    return done.returncode, lines, done.stdout + done.stderr


def test_an_enrolled_device_passes_every_check(
    closed_controller: ControllerRuntime, api: str, tmp_path: Path
) -> None:
    device = enrol(closed_controller, "check-01", tmp_path / "agent")
    status, lines, out = check(device, api, tmp_path)
    assert status == 0, out
    assert set(lines) == {"clock", "broker", "key", "speaker"}, out
    assert all(line.startswith("OK ") for line in lines.values()), out
    assert "TLS" in lines["broker"] and "mqtts://" in lines["broker"]
    assert "đã đồng bộ NTP" in lines["clock"] and "NTP synchronised" in lines["clock"]
    assert out.rstrip().endswith("tất cả đều ổn — all checks passed")


def test_a_missing_key_fails_its_line_and_the_command_the_rest_still_run(
    closed_controller: ControllerRuntime, api: str, tmp_path: Path
) -> None:
    device = enrol(closed_controller, "check-02", tmp_path / "agent")
    (device.data_dir / "device.key").unlink()
    status, lines, out = check(device, api, tmp_path)
    assert status == 1, out
    assert lines["key"].startswith("FAIL key: không có khóa thiết bị"), out
    assert "no device key at" in lines["key"] and " — " in lines["key"]
    assert lines["broker"].startswith("OK ") and lines["speaker"].startswith("OK "), out
    assert "1 lỗi — 1 failed: key" in out


def test_a_wrong_login_an_unsynchronised_clock_and_no_controller_each_fail(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    device = enrol(closed_controller, "check-03", tmp_path / "agent")
    status, lines, out = check(
        device,
        f"http://127.0.0.1:{free_port()}",  # nothing listens
        tmp_path,
        WARDCAST_AGENT_MQTT_PASSWORD="not-the-password",
    )
    assert status == 1, out
    assert lines["broker"].startswith("FAIL broker: không kết nối được mqtts://"), out
    assert lines["clock"].startswith("FAIL clock: không hỏi được giờ máy chủ"), out
    status, lines, out = check(device, "", tmp_path, ntp="no")
    assert lines["clock"].startswith("FAIL clock: chưa đồng bộ NTP"), out
    assert "not synchronised by NTP" in lines["clock"]
