"""The project's commands as real processes, for the tests that start one.

``wardcast serve`` (the controller), ``wardcast-demo`` and the like are run as a reader
runs them: the console script installed beside this Python, else ``python -m`` of its
module (a source tree whose scripts are not installed runs the same code).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def console_script(name: str, module: str) -> list[str]:
    """The command ``name`` as installed beside this Python, else ``python -m module``."""
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


def wardcast_command() -> list[str]:
    """``wardcast``, the controller's command."""
    return console_script("wardcast", "controller.cli.main")


def demo_command() -> list[str]:
    """``wardcast-demo``, the demo."""
    return console_script("wardcast-demo", "sim.cli")


def start_serve(
    port: int | str, env: Mapping[str, str], log: Path, log_level: str = "WARNING"
) -> subprocess.Popen[bytes]:
    """``wardcast serve`` on ``port`` with ``env``, its output appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [*wardcast_command(), "serve", "--port", str(port), "--log-level", log_level],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def agent_env(
    device_id: str, controller_public_key: str, data_dir: Path, broker_url: str
) -> dict[str, str]:
    """This environment with the settings of one ``wardcast-agent run`` (relay settle 0.1 s)."""
    return {
        **os.environ,
        "WARDCAST_AGENT_DEVICE_ID": device_id,
        "WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY": controller_public_key,
        "WARDCAST_AGENT_DATA_DIR": str(data_dir),
        "WARDCAST_AGENT_BROKER_URL": broker_url,
        "WARDCAST_AGENT_RELAY_SETTLE_S": "0.1",
    }


def start_agent(env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``wardcast-agent run`` with ``env``, its output appended to ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "edge_agent.cli", "run", "--log-level", "WARNING"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_process(proc: subprocess.Popen[bytes], wait_s: float) -> None:
    """SIGTERM a process still running; SIGKILL it if it has not ended within ``wait_s``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)  # reaped, so no zombie outlives the test
