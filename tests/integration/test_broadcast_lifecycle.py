"""A broadcast's life over the real API, mosquitto, ffmpeg, espeak-ng and simulated agents.

A ward with two zones' worth of groups and three loudspeakers; the controller served by
uvicorn so the agents fetch the audio as a Pi would. A broadcast to a zone reaches
"done" as the agents confirm it; a cancel drops a future broadcast from the plans and
stops one that is sounding (its partial play kept as evidence), a whole ward's with one
signed command; a rejected bulletin is edited and returns to draft; an emergency's
progress ends when every device confirmed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from edge_agent.core import EdgeAgent
from edge_agent.fleet import AgentFleet
from tests.support.auth import auth_headers
from tests.support.drills import agent_configs, place_ward
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, parse_ward, ward_topic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

WARD = "26734"
# to-1 and to-2 are in the riverside zone; to-3 is not.
DEVICES = {"to-1": "tdp-1", "to-2": "tdp-2", "to-3": "tdp-3"}
SHORT = "Xin chào bà con."
LONG = (
    "Ủy ban nhân dân phường thông báo: do sửa chữa đường ống, ngày mai các tổ dân phố "
    "ven sông sẽ bị cắt nước từ tám giờ sáng đến mười một giờ trưa. Đề nghị bà con chủ "
    "động dự trữ nước sinh hoạt. Xin cảm ơn bà con đã lắng nghe."
)


@dataclass
class World:
    """The running controller, its HTTP address, the agents and who is signed in."""

    runtime: ControllerRuntime
    http: httpx.Client
    fleet: AgentFleet
    officer: dict[str, str]
    leader: dict[str, str]


@pytest.fixture
def w(tmp_path: Path, broker: EmbeddedBroker) -> Iterator[World]:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "controller",
        broker_url=broker.url,
        http_port=port,
        gtts_enabled=False,  # the engine pinned: the same answer with or without internet
        environment="test",
    )
    runtime = ControllerRuntime(settings)
    runtime.start()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(runtime=runtime), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, name="lifecycle-controller", daemon=True)
    thread.start()
    keys = {d: SigningKey.generate() for d in DEVICES}
    place_ward(
        runtime,
        (WARD, "Hàng Bạc"),
        DEVICES,
        keys,
        zones={"ven-song": ("Ven sông", ["tdp-1", "tdp-2"])},
    )
    configs = agent_configs(runtime, keys, tmp_path, broker.url, durable_outbox=False)
    fleet: AgentFleet | None = None
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the controller did not start serving"
        fleet = AgentFleet(configs).start()
        assert fleet.wait_ready(20)
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, follow_redirects=True)
        officer = auth_headers(runtime, "officer", wards=[WARD], username="can-bo")
        leader = auth_headers(runtime, "approver", wards=[WARD], username="chu-tich")
        yield World(runtime, http, fleet, officer, leader)
        http.close()
    finally:
        if fleet is not None:
            fleet.stop()
        server.should_exit = True
        thread.join(15)
        runtime.stop()


def _approved(w: World, text: str, title: str = "Cắt nước") -> dict[str, Any]:
    body = {"title": title, "text": text, "ward_code": WARD, "chime": False}
    made = w.http.post("/api/v1/bulletins", json=body, headers=w.officer)
    assert made.status_code == 201, made.text
    bulletin: dict[str, Any] = made.json()
    assert w.http.post(f"/api/v1/bulletins/{bulletin['id']}/submit", headers=w.officer).is_success
    approved = w.http.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=w.leader)
    assert approved.status_code == 200, approved.text
    return bulletin


def _until(
    read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + s
    seen = read()
    while not done(seen) and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = read()
    return seen


def _broadcast(w: World, broadcast_id: str) -> dict[str, Any]:
    answer = w.http.get(f"/api/v1/broadcasts/{broadcast_id}", headers=w.officer)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _plan_items(agent: EdgeAgent) -> list[str]:
    return [i.item_id for i in agent.plan.items] if agent.plan is not None else []


def _started(agent: EdgeAgent) -> int:
    return agent.stats.plays_started


def test_a_broadcast_to_a_zone_moves_to_done_as_its_agents_confirm(w: World) -> None:
    bulletin = _approved(w, SHORT)
    start = datetime.now(UTC) + timedelta(seconds=4)
    made = w.http.post(
        "/api/v1/broadcasts",
        json={
            "bulletin_id": bulletin["id"],
            "ward_code": WARD,
            "zones": ["ven-song"],
            "start_at": start.isoformat(),
        },
        headers=w.officer,
    )
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["target"] == {
        "ward_code": WARD,
        "zones": ["ven-song"],
        "group_codes": [],
        "device_ids": [],
    }
    assert [t["device_id"] for t in created["targets"]] == ["to-1", "to-2"]
    assert created["status"] in ("scheduled", "sent")
    # Before the start, both agents say they hold it.
    held = _until(
        lambda: _broadcast(w, created["id"]),
        lambda b: b["status"] == "sent",
        3.5,
    )
    assert {t["state"] for t in held["targets"]} <= {"received", "playing", "completed"}
    final = _until(lambda: _broadcast(w, created["id"]), lambda b: b["status"] == "done", 30)
    assert final["status"] == "done", final
    assert final["state_counts"] == {"completed": 2}
    for target in final["targets"]:
        assert target["group_code"] == DEVICES[target["device_id"]]
        assert target["received_at"] is not None and target["confirmed_at"] is not None
        assert target["outcome"] == "completed"
    # to-3, outside the zone, never heard of it.
    assert created["id"] not in w.fleet.call(partial(_plan_items, w.fleet.agents["to-3"]))


def test_a_cancel_drops_a_future_broadcast_and_stops_a_sounding_one(w: World) -> None:
    bulletin = _approved(w, LONG)
    later = datetime.now(UTC) + timedelta(minutes=10)
    future = w.http.post(
        "/api/v1/broadcasts",
        json={"bulletin_id": bulletin["id"], "ward_code": WARD, "start_at": later.isoformat()},
        headers=w.officer,
    ).json()
    agents = w.fleet.agents
    assert _until(
        lambda: {
            "held": all(
                future["id"] in w.fleet.call(partial(_plan_items, a)) for a in agents.values()
            )
        },
        lambda r: r["held"],
        10,
    )["held"]
    cancelled = w.http.post(f"/api/v1/broadcasts/{future['id']}/cancel", headers=w.officer)
    assert cancelled.status_code == 200, cancelled.text  # a bare cancel: no body needed
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_by"] == "can-bo"
    gone = _until(
        lambda: {
            "gone": all(
                future["id"] not in w.fleet.call(partial(_plan_items, a)) for a in agents.values()
            )
        },
        lambda r: r["gone"],
        10,
    )
    assert gone["gone"], "the cancelled broadcast is still in an agent's plan"
    again = w.http.post(f"/api/v1/broadcasts/{future['id']}/cancel", headers=w.officer)
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]

    # Now one that is sounding on to-3: stopped, and the part that played is evidence.
    now = w.http.post(
        "/api/v1/broadcasts",
        json={"bulletin_id": bulletin["id"], "device_ids": ["to-3"]},
        headers=w.officer,
    ).json()
    to3 = agents["to-3"]
    assert (
        _until(lambda: {"n": w.fleet.call(partial(_started, to3))}, lambda r: r["n"] >= 1, 10)["n"]
        >= 1
    )
    # The agent says it sounds, well before its confirmation at the end.
    sounding = _until(
        lambda: _broadcast(w, now["id"]),
        lambda b: b["targets"][0]["started_at"] is not None,
        5,
    )
    assert (sounding["status"], sounding["targets"][0]["state"]) == ("playing", "playing")
    stop = w.http.post(
        f"/api/v1/broadcasts/{now['id']}/cancel", json={"reason": "nhầm"}, headers=w.officer
    )
    assert stop.status_code == 200, stop.text
    final = _until(
        lambda: _broadcast(w, now["id"]),
        lambda b: b["targets"][0]["confirmed_at"] is not None,
        15,
    )
    assert final["status"] == "cancelled"
    (target,) = final["targets"]
    assert target["state"] == "partial", target
    assert target["reason"] == "cancelled by can-bo: nhầm"
    assert 0 < target["played_duration_s"] < final["planned_duration_s"]


def test_a_rejected_bulletin_is_edited_back_to_draft_and_resubmitted(w: World) -> None:
    made = w.http.post(
        "/api/v1/bulletins",
        json={"title": "Tiêm chủng", "text": SHORT, "ward_code": WARD, "chime": False},
        headers=w.officer,
    ).json()
    w.http.post(f"/api/v1/bulletins/{made['id']}/submit", headers=w.officer)
    rejected = w.http.post(
        f"/api/v1/bulletins/{made['id']}/reject", json={"reason": "Thiếu giờ."}, headers=w.leader
    )
    assert rejected.json()["status"] == "rejected"
    queue = w.http.get("/api/v1/bulletins", params={"state": "rejected"}, headers=w.officer)
    assert [b["id"] for b in queue.json()] == [made["id"]]
    edit = {
        "text": "Tiêm chủng lúc tám giờ sáng thứ hai.",
        "tts_voice": "espeak-ng:vi-vn-x-south",
        "tts_speed_wpm": 130,
    }
    edited = w.http.patch(f"/api/v1/bulletins/{made['id']}", json=edit, headers=w.officer)
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["status"], body["text"], body["tts_voice"]) == (
        "draft",
        edit["text"],
        "espeak-ng:vi-vn-x-south",
    )
    assert body["media"]["sha256"] != made["media"]["sha256"]
    clip = w.http.get(f"/api/v1/bulletins/{made['id']}/audio", headers=w.officer)
    assert clip.status_code == 200 and clip.headers["content-type"].startswith("audio/")
    history = w.http.get(f"/api/v1/bulletins/{made['id']}/history", headers=w.officer).json()
    assert [(s["from_status"], s["to_status"]) for s in history][-2:] == [
        ("submitted", "rejected"),
        ("rejected", "draft"),
    ]
    w.http.post(f"/api/v1/bulletins/{made['id']}/submit", headers=w.officer)
    assert w.http.post(f"/api/v1/bulletins/{made['id']}/approve", headers=w.leader).is_success
    late = w.http.patch(f"/api/v1/bulletins/{made['id']}", json={"title": "X"}, headers=w.officer)
    assert late.status_code == 409 and "only a draft or a rejected" in late.json()["detail"]


def test_an_emergencys_progress_ends_when_every_device_confirmed(w: World) -> None:
    alert = {
        "identifier": "lu-1",
        "sender": "ubnd@hangbac.gov.vn",
        "sent": datetime.now(UTC).isoformat(),
        "description": SHORT,
        "headline": "Lũ",
        "ward_code": WARD,
    }
    made = w.http.post("/api/v1/emergencies", json=alert, headers=w.leader)
    assert made.status_code == 201, made.text
    emergency_id = made.json()["id"]

    def read() -> dict[str, Any]:
        answer = w.http.get(f"/api/v1/emergencies/{emergency_id}/progress", headers=w.leader)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    final = _until(read, lambda p: p["over"], 30)
    assert final["over"] and final["status"] == "done", final
    assert final["stages"] == {"confirmed": 3}
    events = w.http.get(f"/api/v1/emergencies/{emergency_id}/events", headers=w.leader)
    assert events.headers["content-type"].startswith("text/event-stream")
    assert "event: progress" in events.text and events.text.rstrip().endswith("data: {}")


def test_a_ward_now_cancelled_mid_play_stops_every_agent_with_one_command(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulletin = _approved(w, LONG)
    listening = _until(
        lambda: {"all": all(w.runtime.listeners.listening(d) == WARD for d in DEVICES)},
        lambda r: r["all"],
        10,
    )
    assert listening["all"], "the agents never said they listen to their ward"
    now = w.http.post(
        "/api/v1/broadcasts",
        json={"bulletin_id": bulletin["id"], "ward_code": WARD},
        headers=w.officer,
    ).json()
    agents = w.fleet.agents
    sounding = _until(
        lambda: {"n": sum(w.fleet.call(partial(_started, a)) for a in agents.values())},
        lambda r: r["n"] >= len(DEVICES),
        10,
    )
    assert sounding["n"] == len(DEVICES)
    # Count the commands the controller publishes for the cancel, on the real broker.
    commands: list[str] = []
    transport = w.runtime.transport
    publish = transport.publish

    def counting(topic: str, payload: bytes, **kw: Any) -> None:
        if parse_ward(topic) is not None or topic.endswith(str(DeviceChannel.COMMAND)):
            commands.append(topic)
        publish(topic, payload, **kw)

    monkeypatch.setattr(transport, "publish", counting)
    stop = w.http.post(f"/api/v1/broadcasts/{now['id']}/cancel", headers=w.officer)
    assert stop.status_code == 200, stop.text
    assert commands == [ward_topic(WARD)]
    final = _until(
        lambda: _broadcast(w, now["id"]),
        lambda b: all(t["confirmed_at"] is not None for t in b["targets"]),
        15,
    )
    assert final["status"] == "cancelled"
    assert {t["device_id"]: t["state"] for t in final["targets"]} == dict.fromkeys(
        DEVICES, "partial"
    )
    assert all(t["reason"] == "cancelled by can-bo" for t in final["targets"])
