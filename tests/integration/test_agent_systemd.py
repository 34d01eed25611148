"""``wardcast-agent run`` speaks systemd's service protocol as the unit expects it.

deploy/systemd/wardcast-agent.service is ``Type=notify`` with ``WatchdogSec``: the agent
must say READY=1 once it runs, WATCHDOG=1 well within the watchdog's timeout, and
STOPPING=1 when SIGTERM stops it. A datagram socket stands where systemd's would,
passed the way systemd passes it (``NOTIFY_SOCKET``, ``WATCHDOG_USEC``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest

from controller.messaging.broker import EmbeddedBroker
from wardcast_protocol.signing import SigningKey

pytestmark = pytest.mark.integration


def test_ready_watchdog_kicks_and_stopping_reach_systemds_socket(
    tmp_path: Path, broker: EmbeddedBroker
) -> None:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(15)
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(path),
        "WATCHDOG_USEC": "3000000",  # 3 s: a kick every second
        "WARDCAST_AGENT_DEVICE_ID": "systemd-01",
        "WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY": SigningKey.generate().public_key_b64,
        "WARDCAST_AGENT_DATA_DIR": str(tmp_path / "agent"),
        "WARDCAST_AGENT_BROKER_URL": broker.url,
    }
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run", "--log-level", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        heard: list[tuple[float, str]] = []
        while sum(1 for _, m in heard if m == "WATCHDOG=1") < 3:
            heard.append((time.monotonic(), sock.recv(100).decode()))
        messages = [m for _, m in heard]
        assert "READY=1" in messages, messages
        kicks = [at for at, m in heard if m == "WATCHDOG=1"]
        assert max(b - a for a, b in pairwise(kicks)) < 3.0, kicks
        proc.send_signal(signal.SIGTERM)
        while sock.recv(100) != b"STOPPING=1":  # a kick may come first; a timeout fails
            pass
        assert proc.wait(20) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
