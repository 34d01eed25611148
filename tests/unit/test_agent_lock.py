"""One agent per data folder: a second one refuses to start, with a clear message.

Two agents on one folder used to both run, share the device's key and outbox, and fork
its evidence chain. The lock is the kernel's (``flock``), so a killed agent leaves none
behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge_agent import cli
from edge_agent.config import AgentConfig
from edge_agent.core import EdgeAgent
from edge_agent.fleet import AgentFleet
from edge_agent.lock import LOCK_NAME, DataDirLocked, lock_data_dir
from edge_agent.media_cache import MediaFetcher
from edge_agent.simulated_player import SimulatedPlayer
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.signing import SigningKey

CONTROLLER_KEY = SigningKey.generate().public_key_b64

HOLD = """
import sys, time
from pathlib import Path
from edge_agent.lock import lock_data_dir
held = lock_data_dir(Path(sys.argv[1]))  # kept: the lock lives as long as its file
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_lock_on_the_folder_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = lock_data_dir(tmp_path)
    with pytest.raises(DataDirLocked) as refused:
        lock_data_dir(tmp_path)
    message = str(refused.value)
    assert str(tmp_path) in message and f"pid {os.getpid()}" in message
    assert "already running" in message
    first.release()
    lock_data_dir(tmp_path).release()  # free again once released


def test_a_killed_agent_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirLocked, match=f"pid {holder.pid}"):
            lock_data_dir(tmp_path)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        lock_data_dir(tmp_path).release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert (tmp_path / LOCK_NAME).exists()


def test_run_refuses_a_folder_another_agent_holds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WARDCAST_AGENT_DEVICE_ID", "to-dan-pho-3")
    monkeypatch.setenv("WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY", CONTROLLER_KEY)
    monkeypatch.setenv("WARDCAST_AGENT_DATA_DIR", str(tmp_path))
    with lock_data_dir(tmp_path):
        result = CliRunner().invoke(cli.app, ["run"])
    assert result.exit_code == 1, result.output
    assert "cannot start" in result.output and "already running" in result.output
    # Refused before anything was opened: no key, no outbox was made.
    assert not (tmp_path / "device.key").exists()
    assert not (tmp_path / "outbox.db").exists()


def test_a_second_fleet_on_the_same_folders_is_refused(tmp_path: Path) -> None:
    broker = FakeBroker()
    clock = FakeClock()
    config = AgentConfig(
        device_id="to-1", controller_public_key=CONTROLLER_KEY, data_dir=tmp_path / "to-1"
    )

    def factory(config: AgentConfig, fetcher: MediaFetcher) -> EdgeAgent:
        return EdgeAgent(
            config,
            transport=broker.link(config.device_id),
            player=SimulatedPlayer(clock, None),
            fetcher=fetcher,
            clock=clock,
        )

    first = AgentFleet([config], clock=clock, factory=factory).start()
    try:
        with pytest.raises(DataDirLocked, match="already running"):
            AgentFleet([config], clock=clock, factory=factory).start()
    finally:
        first.stop()
    AgentFleet([config], clock=clock, factory=factory).start().stop()  # released on stop


def test_enrol_refuses_a_folder_a_running_agent_holds(tmp_path: Path) -> None:
    # Enrolling writes a new key and login: never under an agent that runs on them.
    with lock_data_dir(tmp_path):
        result = CliRunner().invoke(
            cli.app,
            [
                "enrol",
                "--line",
                "wardcast-enrol:http://127.0.0.1:9|to-1|code-123",
                "--data-dir",
                str(tmp_path),
            ],
        )
    assert result.exit_code == 1, result.output
    assert "cannot enrol" in result.output and "already running" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME]
