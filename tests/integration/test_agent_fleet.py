"""Agents in an AgentFleet against the real mosquitto, a controller stand-in and a media server."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from edge_agent.config import AgentConfig
from edge_agent.controller_stand_in import ControllerStandIn, plan_item
from edge_agent.fleet import AgentFleet
from wardcast_protocol.envelope import signed_digest
from wardcast_protocol.messages import MediaRef, Outcome
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.transport import BrokerAddress

pytestmark = pytest.mark.integration


class _Server(ThreadingHTTPServer):
    # A deep listen backlog: every agent prefetches at once when a plan arrives, and
    # the default of 5 would refuse some of them (they retry, but late).
    request_queue_size = 256
    daemon_threads = True


class MediaServer:
    """A tiny HTTP server on 127.0.0.1 serving a few files from memory."""

    def __init__(self) -> None:
        files: dict[str, bytes] = {}
        self.files = files
        self.requests: list[str] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, name: str, data: bytes, duration_s: float) -> MediaRef:
        self.files[f"/media/{name}"] = data
        port = self.server.server_address[1]
        return MediaRef(
            sha256=hashlib.sha256(data).hexdigest(),
            url=f"http://127.0.0.1:{port}/media/{name}",
            duration_s=duration_s,
            size_bytes=len(data),
            content_type="audio/wav",
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def tone(path: Path, seconds: float) -> bytes:
    """A real WAV made by sox (or a few bytes if sox is missing: the simulated player
    does not decode)."""
    if shutil.which("sox") is None:
        return b"RIFF-not-really-a-wav" * 50
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", str(path), "synth", str(seconds), "sine", "440"],
        check=True,
    )
    return path.read_bytes()


@pytest.fixture
def media(tmp_path: Path) -> Iterator[MediaServer]:
    server = MediaServer()
    yield server
    server.close()


def make_fleet(
    tmp_path: Path, broker_url: str, controller: ControllerStandIn, count: int
) -> tuple[AgentFleet, list[tuple[str, str, datetime, float]]]:
    configs = []
    for n in range(1, count + 1):
        device_id = f"it-{n:02d}"
        data_dir = tmp_path / device_id
        key = SigningKey.load_or_create(data_dir / "device.key")
        controller.device_keys[device_id] = key.public_key_b64
        configs.append(
            AgentConfig(
                device_id=device_id,
                controller_public_key=controller.public_key,
                data_dir=data_dir,
                broker_url=broker_url,
                relay_settle_s=0.0,
                resend_interval_s=2.0,
            )
        )
    starts: list[tuple[str, str, datetime, float]] = []
    fleet = AgentFleet(
        configs,
        on_playback_started=lambda d, i, at: starts.append((d, i, at, time.time())),
    )
    return fleet, starts


def controller_link(broker_url: str, name: str = "it-controller") -> MqttLink:
    return MqttLink(BrokerAddress.parse(broker_url), name)


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_three_agents_play_on_time_and_their_signed_events_verify(
    tmp_path: Path, broker: EmbeddedBroker, media: MediaServer
) -> None:
    link = controller_link(broker.url)
    controller = ControllerStandIn(link)
    link.start()
    assert link.wait_connected(5)
    fleet, starts = make_fleet(tmp_path, broker.url, controller, 3)
    fleet.start()
    try:
        assert fleet.wait_ready(10)
        clip = media.add("clip.wav", tone(tmp_path / "clip.wav", 0.5), duration_s=0.5)
        planned = datetime.now(UTC) + timedelta(seconds=2)
        for device_id in fleet.agents:
            controller.send_plan(device_id, [plan_item("item-1", clip, planned)], version=1)

        events = controller.wait_events(3, timeout_s=10)
        assert sorted(e.device_id for e in events) == ["it-01", "it-02", "it-03"]
        for event in events:
            assert event.outcome is Outcome.COMPLETED
            assert event.actual_start is not None
            lateness = (event.actual_start - planned).total_seconds()
            assert 0 <= lateness < 0.5, f"{event.device_id} started {lateness:.3f} s late"
        # The hook fired on time by the machine's clock too, not only in the evidence.
        for _, _, _, wall in starts:
            assert abs(wall - planned.timestamp()) < 0.5
        # One download per agent: each has its own cache, fetched ahead of time.
        assert media.requests.count("/media/clip.wav") == 3

        for event in events:
            controller.ack(event.device_id, [event.event_id])

        def outboxes_empty() -> bool:
            counts = fleet.call(lambda: [a.outbox.pending_count() for a in fleet.agents.values()])
            return counts == [0, 0, 0]

        assert wait_until(outboxes_empty, 5)
        lateness_ms = [
            round(((e.actual_start or planned) - planned).total_seconds() * 1000, 1) for e in events
        ]
        print(f"start lateness (ms): {lateness_ms}")
    finally:
        fleet.stop()
        link.stop()


def test_agent_plays_on_time_with_the_broker_down_and_reports_when_it_returns(
    tmp_path: Path, media: MediaServer
) -> None:
    port = free_port()
    state = tmp_path / "broker"
    broker = EmbeddedBroker(port, persistence=True, state_dir=state).start()
    link = controller_link(broker.url)
    controller = ControllerStandIn(link)
    link.start()
    assert link.wait_connected(5)
    fleet, starts = make_fleet(tmp_path, broker.url, controller, 1)
    fleet.start()
    try:
        assert fleet.wait_ready(10)
        [agent] = fleet.agents.values()
        clip = media.add("clip.wav", tone(tmp_path / "clip.wav", 0.3), duration_s=0.3)
        planned = datetime.now(UTC) + timedelta(seconds=2.5)
        controller.send_plan(agent.device_id, [plan_item("item-1", clip, planned)], version=1)
        assert wait_until(lambda: fleet.call(lambda: agent.media.count()) == 1, 5)

        broker.stop()  # the 4G link drops before the broadcast
        assert wait_until(lambda: len(starts) == 1, 6), "did not play with the broker down"
        lateness = (starts[0][2] - planned).total_seconds()
        assert 0 <= lateness < 0.5
        assert wait_until(lambda: fleet.call(lambda: agent.outbox.pending_count()) == 1, 3)
        assert controller.received() == []

        broker.start()  # same port, same persisted sessions
        [event] = controller.wait_events(1, timeout_s=20)
        assert (event.item_id, event.outcome, event.seq) == ("item-1", Outcome.COMPLETED, 1)
        assert event.actual_start == starts[0][2]
        stored = fleet.call(lambda: agent.outbox.unacked())
        assert signed_digest(controller.events[0].signed) == stored[0].digest
        print(f"start lateness with the broker down: {lateness * 1000:.1f} ms")
    finally:
        fleet.stop()
        link.stop()
        broker.cleanup()
