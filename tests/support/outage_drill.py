"""The outage drill's parts: a served controller, a persistent mosquitto, three agents.

Shared by ``tests/integration/test_outage_drill.py`` (the order sent while the broker is
down) and ``test_outage_drill_restart.py`` (the controller restarted meanwhile). See the
first for the scenario; everything here is set-up, the broker's outage, and the checks
both make.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from controller import composition
from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from edge_agent.fleet import AgentFleet
from tests.support.auth import auth_headers
from tests.support.drills import agent_configs, evidence_of, place_ward, wait_for
from wardcast_protocol.signing import SigningKey

WARD = "26737"
DEVICES = {"od-1": "tdp-1", "od-2": "tdp-2", "od-3": "tdp-3"}
ORDER = "Nước sông đang lên nhanh. Bà con di chuyển lên chỗ cao ngay."
OUTAGE_S = 6.0  # how long the broker stays down after the order is sent
EXPIRES_S = 6.0  # a short CAP expiry, for the variant where the broker outlives it


@dataclass
class Drill:
    """The running controller, its broker, the agents, and the ward leader signed in."""

    runtime: ControllerRuntime
    broker: EmbeddedBroker
    http: httpx.Client
    fleet: AgentFleet
    leader: dict[str, str]
    # (device, item, planned start) of every play an agent started, as it started.
    starts: list[tuple[str, str, float]] = field(default_factory=list)
    # Serving ``runtime``; replaced with it when a test restarts the controller.
    serving: tuple[uvicorn.Server, threading.Thread] | None = None


def serve(runtime: ControllerRuntime, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve ``runtime`` by uvicorn on ``port`` in a thread (the agents fetch audio there)."""
    app = create_app(runtime=runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="outage-controller", daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, 20), "the controller did not start serving"
    return server, thread


@contextmanager
def running_drill(tmp_path: Path) -> Iterator[Drill]:
    """The drill's parts started on loopback, stopped (whichever controller runs then) after."""
    broker = EmbeddedBroker(free_port(), persistence=True, state_dir=tmp_path / "broker")
    broker.start()
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "controller",
        broker_url=broker.url,
        http_port=port,
        gtts_enabled=False,
        environment="test",
    )
    runtime = ControllerRuntime(settings, run_maintenance=False)
    runtime.start()
    server, thread = serve(runtime, port)
    keys = {d: SigningKey.generate() for d in DEVICES}
    place_ward(runtime, (WARD, "Hàng Buồm"), DEVICES, keys)
    configs = agent_configs(runtime, keys, tmp_path, broker.url)
    starts: list[tuple[str, str, float]] = []
    fleet = AgentFleet(
        configs, on_playback_started=lambda d, i, _at: starts.append((d, i, time.monotonic()))
    )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        fleet.start()
        assert fleet.wait_ready(20)
        # As in the field: every agent has said it listens on its ward's channel, so the
        # order goes out as one command on that channel.
        listening = lambda: all(runtime.listeners.listening(d) == WARD for d in DEVICES)  # noqa: E731
        assert wait_for(listening, 15), "the agents never said they listen to their ward"
        leader = auth_headers(runtime, "approver", wards=[WARD], username="chu-tich")
        running = Drill(runtime, broker, http, fleet, leader, starts, (server, thread))
        yield running
        runtime = running.runtime  # the one running now (a test may have restarted it)
        server, thread = running.serving or (server, thread)
    finally:
        http.close()
        fleet.stop()
        server.should_exit = True
        thread.join(15)
        runtime.stop()
        broker.cleanup()


def connected(d: Drill) -> list[bool]:
    """Whether the controller, then each agent, is connected to the broker now."""
    agents = d.fleet.agents.values()
    return [
        d.runtime.transport.connected,
        *d.fleet.call(lambda: [a.connected.is_set() for a in agents]),
    ]


def break_the_broker(d: Drill) -> None:
    """Stop the broker, and wait until the controller and every agent saw the loss."""
    d.broker.stop()
    assert wait_for(lambda: not any(connected(d)), 10), "the loss was not seen by everyone"


def cap_alert(identifier: str, **fields: Any) -> dict[str, Any]:
    """A CAP Alert for the ward, as the ward leader sends it; ``fields`` added or replaced."""
    return {
        "identifier": identifier,
        "sender": "ubnd.hangbuom@hanoi.gov.vn",
        "sent": datetime.now(UTC).isoformat(),
        "event": "Lũ lụt",
        "headline": "Sơ tán khẩn cấp",
        "description": ORDER,
        "ward_code": WARD,
        **fields,
    }


def progress(d: Drill, emergency_id: str) -> dict[str, Any]:
    """The emergency's progress as the API reads it to the ward leader."""
    answer = d.http.get(f"/api/v1/emergencies/{emergency_id}/progress", headers=d.leader)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def until(d: Drill, emergency_id: str, done: Any, timeout_s: float) -> dict[str, Any]:
    """The emergency's progress once ``done(progress)`` holds (or the last one read)."""
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen.update(progress(d, emergency_id))
        return bool(done(seen))

    wait_for(check, timeout_s, poll_s=0.2)
    return seen


def outage_lasts(seconds: float) -> None:
    """The broker stays down this long: the scenario's parameter, not a wait for a state."""
    deadline = time.monotonic() + seconds
    wait_for(lambda: time.monotonic() >= deadline, seconds + 1, poll_s=0.1)


def bring_back_and_check_played_once(d: Drill, broadcast_id: str, answered: float) -> None:
    """Restart the broker; every agent plays ``broadcast_id`` once, confirmed once."""
    assert d.starts == []  # nothing could reach the agents
    d.broker.start()  # same port, same persisted sessions
    back = time.monotonic()
    assert wait_for(lambda: d.runtime.transport.connected, 35), "the controller never came back"
    relinked = time.monotonic() - back
    # It retries every 2 s at most (CONTROLLER_RECONNECT_MAX_S), not paho's doubling to
    # 30 s, so the order it holds leaves within seconds of the broker's return.
    assert relinked < 2 + 2, f"the controller came back {relinked:.2f} s after the broker"
    played = lambda: {s[0] for s in d.starts if s[1] == broadcast_id} == set(DEVICES)  # noqa: E731
    assert wait_for(played, 20), f"not every agent played the order: {d.starts}"
    late = {device: round(at - back, 2) for device, _, at in d.starts}
    print(
        f"answered in {answered:.2f} s with the broker down; controller back {relinked:.2f} s "
        f"after the broker; each agent started (s after the broker): {late}"
    )
    confirmed = lambda: all(stored(d, device) for device in DEVICES)  # noqa: E731
    assert wait_for(confirmed, 60), "not every confirmation was stored"
    for device_id in DEVICES:
        rows = [e for e in evidence_of(d.runtime, device_id) if e.broadcast_id == broadcast_id]
        assert len(rows) == 1, f"{device_id}: {len(rows)} confirmations stored"
        assert rows[0].outcome == "completed"
    # Nothing played twice, and every confirmation was acknowledged (outboxes empty).
    assert sorted(s[0] for s in d.starts) == sorted(DEVICES)
    agents = d.fleet.agents.values()
    assert wait_for(
        lambda: d.fleet.call(lambda: [a.outbox.pending_count() for a in agents]) == [0] * 3, 15
    )
    assert d.fleet.call(lambda: [a.stats.plays_started for a in agents]) == [1] * 3


def stored(d: Drill, device_id: str) -> bool:
    """Whether any evidence of ``device_id`` is stored."""
    return bool(evidence_of(d.runtime, device_id))


def restart_the_controller(d: Drill, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop the controller (the order in its link's memory goes with it) and start
    another on the same database, key and port, while the broker is still down."""
    assert d.serving is not None
    server, thread = d.serving
    server.should_exit = True
    thread.join(15)
    d.runtime.stop()
    settings = d.runtime.settings
    # It waits for the broker a second, not ten, before going on without it.
    monkeypatch.setattr(composition, "BROKER_WAIT_S", 1.0)
    runtime = ControllerRuntime(settings, run_maintenance=False)
    runtime.start()
    d.runtime, d.serving = runtime, serve(runtime, settings.http_port)
    # Started without its broker: what it sent at its start waits in its new link.
    assert not runtime.transport.connected
