"""kill -9 the controller and start it again: nothing scheduled is lost or played twice."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from edge_agent.config import AgentConfig
from edge_agent.core import EdgeAgent
from edge_agent.fleet import AgentFleet
from tests.support.auth import bearer, token_for_database
from tests.support.processes import start_serve, stop_process
from wardcast_protocol.signing import SigningKey

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

DEVICES = ("to-1", "to-2")


class Controller:
    """`wardcast serve` as a real process on a fixed port and data directory."""

    def __init__(self, data_dir: Path, broker_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "WARDCAST_DATA_DIR": str(data_dir),
            "WARDCAST_BROKER_URL": broker_url,
            "WARDCAST_GTTS_ENABLED": "false",
            "WARDCAST_ENVIRONMENT": "test",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "controller.log"

    def start(self) -> None:
        self.proc = start_serve(self.port, self.env, self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"controller did not start:\n{self.log.read_text()[-3000:]}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 10)


def _holds_plan_and_media(agent: EdgeAgent) -> bool:
    """Able to play on its own: the agent holds a plan and at least one media file."""
    return bool(agent.plan_version) and agent.media.count() >= 1


def _plays_started(agent: EdgeAgent) -> int:
    """How many plays the agent has started (read on the fleet's loop)."""
    return agent.stats.plays_started


def test_kill_9_and_restart_loses_nothing_and_plays_nothing_twice(tmp_path: Path) -> None:
    broker = EmbeddedBroker(state_dir=tmp_path / "broker", persistence=True).start()
    controller = Controller(tmp_path / "controller", broker.url)
    fleet: AgentFleet | None = None
    try:
        controller.start()
        # Accounts are rows in the controller's database: made there, used over HTTP.
        database = f"sqlite:///{tmp_path / 'controller' / 'wardcast.db'}"
        admin = bearer(token_for_database(database))
        leader = bearer(token_for_database(database, "approver", username="lead", all_wards=True))
        http = httpx.Client(base_url=controller.url, timeout=30, headers=admin)
        controller_key = http.get("/api/v1/system/controller-key").json()["public_key"]
        configs = []
        for device_id in DEVICES:
            key = SigningKey.generate()
            key.save(tmp_path / device_id / "device.key")
            body = {"device_id": device_id, "public_key": key.public_key_b64}
            assert http.post("/api/v1/devices", json=body).status_code == 201
            configs.append(
                AgentConfig(
                    device_id=device_id,
                    controller_public_key=controller_key,
                    data_dir=tmp_path / device_id,
                    broker_url=broker.url,
                    relay_settle_s=0,
                    resend_interval_s=2,
                    durable_outbox=False,
                )
            )
        fleet = AgentFleet(configs).start()
        assert fleet.wait_ready(20)

        made = http.post("/api/v1/bulletins", json={"title": "Thử", "text": "Xin chào bà con."})
        bulletin = made.json()
        http.post(f"/api/v1/bulletins/{bulletin['id']}/submit")
        http.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=leader)
        start = datetime.now(UTC) + timedelta(seconds=12)
        broadcast = http.post(
            "/api/v1/broadcasts",
            json={
                "bulletin_id": bulletin["id"],
                "device_ids": list(DEVICES),
                "start_at": start.isoformat(),
            },
        ).json()
        agents = fleet.agents
        deadline = time.monotonic() + 10
        # The claim under test: an agent holding its plan and media plays on its own.
        # So wait until both are on every device before pulling the plug.
        while time.monotonic() < deadline:
            if all(fleet.call(partial(_holds_plan_and_media, a)) for a in agents.values()):
                break
            time.sleep(0.1)
        versions_before = {d["id"]: d["plan_version"] for d in http.get("/api/v1/devices").json()}

        controller.kill9()  # before the planned start: the agents play on their own
        time.sleep(1)
        controller.start()

        rows: list[dict[str, Any]] = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            rows = http.get("/api/v1/evidence", params={"broadcast_id": broadcast["id"]}).json()
            if len(rows) >= len(DEVICES):
                break
            time.sleep(0.5)
        assert sorted(r["device_id"] for r in rows) == sorted(DEVICES)
        assert all(r["outcome"] == "completed" for r in rows)
        assert all(abs(r["start_offset_s"]) < 1.0 for r in rows)
        # Played once each, and the restart republished nothing new.
        for agent in agents.values():
            assert fleet.call(partial(_plays_started, agent)) == 1
        versions_after = {d["id"]: d["plan_version"] for d in http.get("/api/v1/devices").json()}
        assert versions_after == versions_before
        time.sleep(3)  # a resend cycle later: still exactly one row per device
        again = http.get("/api/v1/evidence", params={"broadcast_id": broadcast["id"]}).json()
        assert len(again) == len(DEVICES)
    finally:
        if fleet is not None:
            fleet.stop()
        controller.stop()
        broker.cleanup()
