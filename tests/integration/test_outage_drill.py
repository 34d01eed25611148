"""Drill: the ward's broker restarts just as the officer sends the evacuation order.

The real parts: a controller runtime served by uvicorn (the agents fetch the audio from
it, as a Pi would), a persistent mosquitto (``EmbeddedBroker(persistence=True)``, as in
the field) and three agents in an ``AgentFleet`` listening on their ward's channel.
The broker is stopped; the controller and the agents see the loss; the ward leader
sends an emergency (CAP Alert) through the API while it is down, or an officer a "now"
broadcast; the broker comes back.

- Back within the order's expiry: the API answered 201 (accepted, not a 500), the
  controller is back within seconds, every agent plays it once, every confirmation is
  stored once, and the officer's view reaches "done".
- Back after the CAP ``expires``: no agent plays the stale order late, and the
  officer's view says it was not played.
- The controller restarted during the outage (the order in its link's memory lost with
  it): the new one sends what is still owed at its start, and every agent plays it once.

The outage's length is the scenario's own parameter (the broker down a few seconds);
everything else is polled with a timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from controller import composition
from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.domain.devices.service import register_device
from controller.domain.places import service as places
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from edge_agent.config import AgentConfig
from edge_agent.fleet import AgentFleet
from tests.support.auth import auth_headers
from tests.support.drills import evidence_of, wait_for
from wardcast_protocol.signing import SigningKey

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

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


def _place(runtime: ControllerRuntime, keys: dict[str, SigningKey]) -> None:
    now = runtime.clock.now()
    with runtime.db.session() as session:
        places.upsert_province(session, "01", "Hà Nội")
        session.flush()
        places.upsert_district(session, "002", "01", "Hoàn Kiếm")
        session.flush()
        places.upsert_ward(session, WARD, "002", "Hàng Buồm", "Asia/Ho_Chi_Minh")
        session.flush()
        for group in DEVICES.values():
            places.upsert_group(session, WARD, group, group)
        session.flush()
        for device_id, group in DEVICES.items():
            register_device(session, device_id, device_id, keys[device_id].public_key_b64, now)
            places.place_device(session, device_id, WARD, group)


def _serve(runtime: ControllerRuntime, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(runtime=runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="outage-controller", daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, 20), "the controller did not start serving"
    return server, thread


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
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
    server, thread = _serve(runtime, port)
    keys = {d: SigningKey.generate() for d in DEVICES}
    _place(runtime, keys)
    configs = []
    for device_id, key in keys.items():
        key.save(tmp_path / device_id / "device.key")
        configs.append(
            AgentConfig(
                device_id=device_id,
                controller_public_key=runtime.key.public_key_b64,
                data_dir=tmp_path / device_id,
                broker_url=broker.url,
                relay_settle_s=0,
                resend_interval_s=2,
            )
        )
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


def _connected(d: Drill) -> list[bool]:
    agents = d.fleet.agents.values()
    return [
        d.runtime.transport.connected,
        *d.fleet.call(lambda: [a.connected.is_set() for a in agents]),
    ]


def _break_the_broker(d: Drill) -> None:
    d.broker.stop()
    assert wait_for(lambda: not any(_connected(d)), 10), "the loss was not seen by everyone"


def _alert(identifier: str, **fields: Any) -> dict[str, Any]:
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


def _progress(d: Drill, emergency_id: str) -> dict[str, Any]:
    answer = d.http.get(f"/api/v1/emergencies/{emergency_id}/progress", headers=d.leader)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _until(d: Drill, emergency_id: str, done: Any, timeout_s: float) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen.update(_progress(d, emergency_id))
        return bool(done(seen))

    wait_for(check, timeout_s, poll_s=0.2)
    return seen


def _outage_lasts(seconds: float) -> None:
    """The broker stays down this long: the scenario's parameter, not a wait for a state."""
    deadline = time.monotonic() + seconds
    wait_for(lambda: time.monotonic() >= deadline, seconds + 1, poll_s=0.1)


def _bring_back_and_check_played_once(d: Drill, broadcast_id: str, answered: float) -> None:
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
    confirmed = lambda: all(_stored(d, device) for device in DEVICES)  # noqa: E731
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


def _stored(d: Drill, device_id: str) -> bool:
    return bool(evidence_of(d.runtime, device_id))


def test_an_emergency_sent_while_the_broker_is_down_plays_once_everywhere_when_it_returns(
    drill: Drill,
) -> None:
    d = drill
    _break_the_broker(d)
    asked = time.monotonic()
    made = d.http.post("/api/v1/emergencies", json=_alert("lu-outage-1"), headers=d.leader)
    answered = time.monotonic() - asked
    # Accepted, not a 500: the order waits for the broker in the controller's link.
    assert made.status_code == 201, made.text
    emergency = made.json()
    assert emergency["state"] == "playing"
    during = _progress(d, emergency["id"])
    assert during["status"] in ("sent", "playing") and not during["over"], during
    _outage_lasts(OUTAGE_S)

    _bring_back_and_check_played_once(d, emergency["broadcast_id"], answered)
    final = _until(d, emergency["id"], lambda p: p.get("over"), 30)
    assert final["status"] == "done", final
    assert final["stages"] == {"confirmed": len(DEVICES)}


def test_a_now_broadcast_sent_while_the_broker_is_down_plays_once_when_it_returns(
    drill: Drill,
) -> None:
    d = drill
    officer = auth_headers(d.runtime, "officer", wards=[WARD], username="can-bo")
    body = {"title": "Sơ tán", "text": ORDER, "ward_code": WARD, "chime": False}
    bulletin = d.http.post("/api/v1/bulletins", json=body, headers=officer).json()
    assert d.http.post(f"/api/v1/bulletins/{bulletin['id']}/submit", headers=officer).is_success
    approved = d.http.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=d.leader)
    assert approved.status_code == 200, approved.text
    _break_the_broker(d)
    asked = time.monotonic()
    now = {"bulletin_id": bulletin["id"], "ward_code": WARD}
    made = d.http.post("/api/v1/broadcasts", json=now, headers=officer)
    answered = time.monotonic() - asked
    assert made.status_code == 201, made.text
    broadcast_id = made.json()["id"]
    _outage_lasts(OUTAGE_S)

    _bring_back_and_check_played_once(d, broadcast_id, answered)
    shown = d.http.get(f"/api/v1/broadcasts/{broadcast_id}", headers=officer).json()
    assert shown["status"] == "done", shown
    assert {t["state"] for t in shown["targets"]} == {"completed"}


def test_an_emergency_whose_expiry_passes_with_the_broker_down_is_not_played_late(
    drill: Drill,
) -> None:
    d = drill
    _break_the_broker(d)
    expires = datetime.now(UTC) + timedelta(seconds=EXPIRES_S)
    alert = _alert("lu-outage-2", expires=expires.isoformat())
    made = d.http.post("/api/v1/emergencies", json=alert, headers=d.leader)
    assert made.status_code == 201, made.text
    emergency = made.json()
    broadcast_id = emergency["broadcast_id"]
    # Down until the CAP expiry has passed.
    _outage_lasts((expires - datetime.now(UTC)).total_seconds() + 1)

    d.broker.start()
    agents = d.fleet.agents.values()

    def heard() -> bool:
        counts = d.fleet.call(lambda: [a.stats.expired_ignored for a in agents])
        return all(counts) or any(s[1] == broadcast_id for s in d.starts)

    assert wait_for(lambda: all(_connected(d)), 20), "not everyone came back"
    assert wait_for(heard, 20), "the stale order never reached the agents"
    assert [s for s in d.starts if s[1] == broadcast_id] == [], "a stale order played late"
    view = _progress(d, emergency["id"])
    print(f"officer's view after the expiry: {view['status']} {view['stages']}")
    assert view["status"] == "failed", view
    assert view["stages"] == {"failed": len(DEVICES)}
    shown = d.http.get(f"/api/v1/broadcasts/{broadcast_id}", headers=d.leader).json()
    assert {t["state"] for t in shown["targets"]} == {"expired"}, shown
    for device_id in DEVICES:
        assert all(e.broadcast_id != broadcast_id for e in evidence_of(d.runtime, device_id))


def _restart_the_controller(d: Drill, monkeypatch: pytest.MonkeyPatch) -> None:
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
    d.runtime, d.serving = runtime, _serve(runtime, settings.http_port)
    # Started without its broker: what it sent at its start waits in its new link.
    assert not runtime.transport.connected


def test_an_emergency_held_by_a_controller_restarted_during_the_outage_plays_once(
    drill: Drill, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = drill
    _break_the_broker(d)
    asked = time.monotonic()
    made = d.http.post("/api/v1/emergencies", json=_alert("lu-outage-3"), headers=d.leader)
    answered = time.monotonic() - asked
    assert made.status_code == 201, made.text
    emergency = made.json()
    _restart_the_controller(d, monkeypatch)

    # The new controller sent the order again at its start (a new command, the same item
    # and expiry): every agent plays it once, each confirmation is stored once.
    _bring_back_and_check_played_once(d, emergency["broadcast_id"], answered)
    final = _until(d, emergency["id"], lambda p: p.get("over"), 30)
    assert final["status"] == "done", final
    assert final["stages"] == {"confirmed": len(DEVICES)}


def test_a_cancel_held_by_a_controller_restarted_during_the_outage_still_stops_the_play(
    drill: Drill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order reached the agents and sounds; the broker goes down; the officer cancels
    (the stop waits in the controller's link); the controller restarts, losing it; the
    new one sends the stop again at its start, and every agent stops, in the cancel's
    words, long before the clip would have ended."""
    d = drill
    officer = auth_headers(d.runtime, "officer", wards=[WARD], username="can-bo")
    long_text = " ".join([ORDER] * 15)  # about a minute of speech
    body = {"title": "Sơ tán", "text": long_text, "ward_code": WARD, "chime": False}
    bulletin = d.http.post("/api/v1/bulletins", json=body, headers=officer).json()
    assert d.http.post(f"/api/v1/bulletins/{bulletin['id']}/submit", headers=officer).is_success
    approved = d.http.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=d.leader)
    assert approved.status_code == 200, approved.text
    made = d.http.post(
        "/api/v1/broadcasts",
        json={"bulletin_id": bulletin["id"], "ward_code": WARD},
        headers=officer,
    )
    assert made.status_code == 201, made.text
    broadcast_id = made.json()["id"]
    sounding = lambda: {s[0] for s in d.starts if s[1] == broadcast_id} == set(DEVICES)  # noqa: E731
    assert wait_for(sounding, 30), f"not every agent started the order: {d.starts}"
    _break_the_broker(d)
    cancelled = d.http.post(
        f"/api/v1/broadcasts/{broadcast_id}/cancel", json={"reason": "nhầm phường"}, headers=officer
    )
    assert cancelled.status_code == 200, cancelled.text
    _restart_the_controller(d, monkeypatch)
    d.broker.start()  # same port, same persisted sessions
    stopped_at = time.monotonic()

    def all_stopped() -> bool:
        rows = [e for dev in DEVICES for e in evidence_of(d.runtime, dev)]
        return len([e for e in rows if e.broadcast_id == broadcast_id]) == len(DEVICES)

    # Well within the clip's minute: only the stop sent again can end the plays this soon.
    assert wait_for(all_stopped, 30), "not every agent stopped and confirmed"
    for device_id in DEVICES:
        (row,) = [e for e in evidence_of(d.runtime, device_id) if e.broadcast_id == broadcast_id]
        assert row.outcome == "partial", (device_id, row.outcome)
        assert "cancelled by can-bo: nhầm phường" in (row.reason or ""), row.reason
    print(f"every agent stopped {time.monotonic() - stopped_at:.1f} s after the broker's return")
