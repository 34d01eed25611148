"""`wardcast serve` and its embedded broker across kill -9 and SIGTERM (real processes).

- kill -9 of the controller leaves its broker serving the agents; the restarted
  controller adopts that same broker (same pid, same port) instead of starting a
  second one over the same files, and the agents never notice.
- SIGTERM stops the controller cleanly: exit status 0, and no broker left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from controller.messaging.broker_host import free_port
from edge_agent.enrolment import enrol
from edge_agent.fleet import AgentFleet
from tests.support.auth import bearer, token_for_database
from tests.support.processes import start_serve, stop_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Serve:
    """`wardcast serve` with its embedded broker, on fixed ports and one data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WARDCAST_")} | {
            "WARDCAST_DATA_DIR": str(data_dir),
            "WARDCAST_BROKER_PORT": str(free_port()),
            "WARDCAST_BROKER_WATCHDOG_INTERVAL_S": "0.2",
            "WARDCAST_GTTS_ENABLED": "false",
            "WARDCAST_ENVIRONMENT": "test",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "serve.log"

    @property
    def broker_pid(self) -> int:
        return int((self.data_dir / "broker" / "mosquitto.pid").read_text())

    def start(self) -> None:
        self.proc = start_serve(self.port, self.env, self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{self.url}/api/v1/health", timeout=1)
                if health.status_code == 200 and health.json()["broker_connected"]:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"controller did not start:\n{self.log.read_text()[-3000:]}")

    def signal(self, sig: int) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(20)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 20)


def _enrolled_fleet(serve: Serve, tmp_path: Path, device_id: str) -> AgentFleet:
    """A device created over the API (an administrator's token) and enrolled as a Pi is."""
    token = token_for_database(f"sqlite:///{serve.data_dir / 'wardcast.db'}")
    with httpx.Client(base_url=serve.url, headers=bearer(token), timeout=30) as http:
        made = http.post("/api/v1/devices", json={"device_id": device_id})
        assert made.status_code == 201, made.text
        enrol(http, tmp_path / device_id, device_id, made.json()["enrolment_code"])
    from edge_agent.config import AgentConfig

    config = AgentConfig(data_dir=tmp_path / device_id, relay_settle_s=0, durable_outbox=False)
    return AgentFleet([config]).start()


def test_kill_9_then_restart_adopts_the_same_broker_and_agents_stay(
    tmp_path: Path, broker_tmp_path: Path
) -> None:
    serve = Serve(broker_tmp_path / "controller")
    fleet: AgentFleet | None = None
    try:
        serve.start()
        fleet = _enrolled_fleet(serve, tmp_path, "to-1")
        assert fleet.wait_ready(10)
        pid, port = serve.broker_pid, serve.env["WARDCAST_BROKER_PORT"]
        agent = fleet.agents["to-1"]

        assert serve.signal(signal.SIGKILL) == -signal.SIGKILL
        assert _alive(pid), "the broker died with the controller"
        time.sleep(0.5)
        assert fleet.call(agent.connected.is_set), "the agent lost its broker"
        serve.start()

        assert serve.broker_pid == pid and _alive(pid)  # adopted, not a second broker
        brokers = subprocess.run(
            ["pgrep", "-f", str(serve.data_dir / "broker" / "mosquitto.conf")],
            capture_output=True,
            text=True,
        ).stdout.split()
        assert brokers == [str(pid)]
        health = httpx.get(f"{serve.url}/api/v1/health").json()
        assert health["broker_url"].endswith(f":{port}") and health["broker_connected"]
        assert fleet.call(agent.connected.is_set)
        # An adopted broker is stopped with the controller that adopted it.
        assert serve.signal(signal.SIGTERM) == 0
        assert not _alive(pid)
    finally:
        if fleet is not None:
            fleet.stop()
        serve.stop()


def test_sigterm_exits_0_and_leaves_no_broker(broker_tmp_path: Path) -> None:
    serve = Serve(broker_tmp_path / "controller")
    try:
        serve.start()
        pid = serve.broker_pid
        assert _alive(pid)
        started = time.monotonic()
        assert serve.signal(signal.SIGTERM) == 0, serve.log.read_text()[-3000:]
        print(f"SIGTERM to exit: {time.monotonic() - started:.2f} s")
        assert not _alive(pid)
        assert not (serve.data_dir / "broker" / "mosquitto.pid").exists()
    finally:
        serve.stop()


@pytest.mark.parametrize("change", ["port", "certificate"])
def test_a_restart_after_kill_9_replaces_a_broker_whose_config_changed(
    broker_tmp_path: Path, change: str
) -> None:
    serve = Serve(broker_tmp_path / "controller")
    try:
        serve.start()
        old, port = serve.broker_pid, serve.env["WARDCAST_BROKER_PORT"]
        serve.signal(signal.SIGKILL)
        if change == "port":  # the operator moved it
            port = serve.env["WARDCAST_BROKER_PORT"] = str(free_port())
        else:  # a new public name: a new server certificate, which mosquitto reads at start
            serve.env["WARDCAST_PUBLIC_BASE_URL"] = "http://wardcast.example:8000"
        serve.start()
        assert not _alive(old) and serve.broker_pid != old
        health = httpx.get(f"{serve.url}/api/v1/health").json()
        assert health["broker_url"].endswith(f":{port}")
    finally:
        serve.stop()
