"""Agent footprint: one real ``wardcast-agent run`` process, its memory after a play, idle CPU.

    .venv/bin/python -m bench.agent_footprint           # 10 s idle window
    .venv/bin/python -m bench.agent_footprint --tiny    # what the test suite runs (2 s)

One real mosquitto on loopback, a controller stand-in that signs the plan and collects
the signed evidence, an HTTP server process for the audio, and the agent: ``python -m
edge_agent run`` (what the ``wardcast-agent`` script runs) in a process of its own,
configured by ``WARDCAST_AGENT_*`` as a Pi is (durable outbox; the simulated player and
relay, as there is no sound card here: the ALSA player's decoding runs in ffmpeg and
aplay, outside the agent's process). It gets a plan of one clip starting ``--lead-s``
later; once its evidence of the play has arrived (plan verified, audio downloaded and
checked, played, signed, stored, sent), its resident memory is read from
``/proc/<pid>/status`` (VmRSS now, VmHWM the peak), then its CPU time
(``/proc/<pid>/stat``) over an idle window of ``--idle-s``.

Baseline, in the same run: a bare python with paho-mqtt connected to the same broker,
subscribed, its network thread running — the least a Python MQTT device can weigh.
The last line: the agent's figures, the baseline's and their ratio; the goal (issue
10.8, a Pi Zero 2 W) is ``rss_mib`` ≤ 50 and ``idle_cpu_pct`` ≤ 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.media_server import MediaProcess, tone_clips
from controller.messaging.broker import EmbeddedBroker
from edge_agent.controller_stand_in import ControllerStandIn, plan_item
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress

DEVICE_ID = "footprint-001"
GOAL_RSS_MIB = 50.0
GOAL_IDLE_CPU_PCT = 1.0
_BASELINE = """
import sys, time
import paho.mqtt.client as mqtt
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="footprint-baseline",
                     protocol=mqtt.MQTTv5)
client.connect(sys.argv[1], int(sys.argv[2]), keepalive=15)
client.subscribe("wardcast/baseline/#", qos=1)
client.loop_start()
print("ready", flush=True)
time.sleep(3600)
"""


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds ``pid`` has used (threads included)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat.rsplit(")", 1)[1].split()  # after "(comm)", which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_agent(
    tmp: Path, broker_url: str, controller_key: str, python: str
) -> subprocess.Popen[str]:
    """``wardcast-agent run`` as a Pi runs it (the console script is ``python -m
    edge_agent``), settings from the environment."""
    data_dir = tmp / "agent"
    env = {
        **os.environ,
        "WARDCAST_AGENT_DEVICE_ID": DEVICE_ID,
        "WARDCAST_AGENT_CONTROLLER_PUBLIC_KEY": controller_key,
        "WARDCAST_AGENT_DATA_DIR": str(data_dir),
        "WARDCAST_AGENT_BROKER_URL": broker_url,
        "WARDCAST_AGENT_PLAYER": "simulated",
        "WARDCAST_AGENT_RELAY_SETTLE_S": "0.2",
    }
    return subprocess.Popen(
        [python, "-m", "edge_agent", "run", "--log-level", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_baseline(port: int) -> subprocess.Popen[str]:
    """The bare python + paho process; returns once it is connected."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _BASELINE, "127.0.0.1", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("the baseline process did not connect")
    return proc


def run(tmp: Path, clip_s: float, lead_s: float, idle_s: float, python: str) -> None:
    """Start everything, make the agent play once, measure both processes."""
    with EmbeddedBroker() as broker:
        link = MqttLink(BrokerAddress.parse(broker.url), "footprint-controller")
        controller = ControllerStandIn(link, auto_ack=True)
        key = SigningKey.generate()
        key.save(tmp / "agent" / "device.key")
        controller.device_keys[DEVICE_ID] = key.public_key_b64
        up = threading.Event()
        link.subscribe(device_topic(DEVICE_ID, DeviceChannel.STATE), lambda _: up.set())
        link.start()
        if not link.wait_connected(10):
            raise SystemExit("controller stand-in could not connect")
        media_dir = tmp / "media"
        media_dir.mkdir()
        server = MediaProcess(media_dir)
        agent = start_agent(tmp, broker.url, controller.public_key, python)
        baseline = start_baseline(int(broker.url.rsplit(":", 1)[1]))
        try:
            began = time.perf_counter()
            if not up.wait(60):
                raise SystemExit(f"the agent did not come up: {_stderr(agent)}")
            started_s = time.perf_counter() - began
            rss_idle, _ = memory_mib(agent.pid)
            clip = tone_clips(media_dir, 1, clip_s, server.port)[0]
            at = datetime.now(UTC) + timedelta(seconds=lead_s)
            controller.send_plan(DEVICE_ID, [plan_item("footprint-1", clip, at)], version=1)
            events = controller.wait_events(1, lead_s + clip_s + 30)
            if not events:
                raise SystemExit(f"the agent did not report its play: {_stderr(agent)}")
            time.sleep(1.0)  # the ack comes back, the outbox settles
            rss, hwm = memory_mib(agent.pid)
            base_rss, _ = memory_mib(baseline.pid)
            cpu0, base0, wall0 = cpu_s(agent.pid), cpu_s(baseline.pid), time.monotonic()
            time.sleep(idle_s)
            wall = time.monotonic() - wall0
            idle_pct = (cpu_s(agent.pid) - cpu0) / wall * 100
            base_pct = (cpu_s(baseline.pid) - base0) / wall * 100
        finally:
            for proc in (agent, baseline):
                proc.terminate()
                proc.wait(10)
            server.stop()
            link.stop()
    outcome = events[0].outcome
    print(f"agent footprint: one `wardcast-agent run` process, durable outbox, {clip_s:g} s clip")
    print(f"agent up (state published) {started_s:.1f} s after start; RSS then {rss_idle:.1f} MiB")
    print(f"played: {outcome}; RSS after the play {rss:.1f} MiB (peak {hwm:.1f} MiB)")
    print(f"idle CPU over {wall:.1f} s: agent {idle_pct:.2f} %, baseline {base_pct:.2f} %")
    print(f"bare python + paho baseline: RSS {base_rss:.1f} MiB")
    print(
        f"rss_mib={rss:.1f} peak_rss_mib={hwm:.1f} idle_cpu_pct={idle_pct:.2f} "
        f"baseline_rss_mib={base_rss:.1f} baseline_idle_cpu_pct={base_pct:.2f} "
        f"ratio={rss / base_rss:.2f} played={outcome} goal_rss_mib={GOAL_RSS_MIB:g} "
        f"goal_idle_cpu_pct={GOAL_IDLE_CPU_PCT:g}"
    )


def _stderr(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        return "still running"
    return (proc.stderr.read() if proc.stderr else "")[-2000:]


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="the test suite's run: 2 s idle")
    parser.add_argument("--clip-s", type=float, default=2.0, help="length of the clip played")
    parser.add_argument("--lead-s", type=float, default=3.0, help="plan sent this long ahead")
    parser.add_argument("--idle-s", type=float, default=10.0, help="idle CPU window")
    parser.add_argument(
        "--agent-python",
        default=sys.executable,
        help="the interpreter of the agent, e.g. a venv made as scripts/install-pi.sh makes "
        "one (requirements/agent.txt and the package, nothing else)",
    )
    args = parser.parse_args()
    if args.tiny:
        args.clip_s, args.idle_s = 1.0, 2.0
    tmp = Path(tempfile.mkdtemp(prefix="wardcast-footprint-"))
    try:
        run(tmp, args.clip_s, args.lead_s, args.idle_s, args.agent_python)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
