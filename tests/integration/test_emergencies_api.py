"""Emergencies through the API: alert plays now, update replaces, cancel stops, repeats don't."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.domain.devices.service import register_device
from controller.settings import Settings
from tests.support.auth import auth_headers
from wardcast_protocol.envelope import CONTROLLER_SENDER, open_envelope
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.messages import Command, Kind, PlayNow, Priority, StopItem
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic

pytestmark = pytest.mark.integration

DEVICES = ("to-1", "to-2")

# The env fixture: the app's client, the fake broker it publishes to, and the runtime.
Env = tuple[TestClient, FakeBroker, ControllerRuntime]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    broker = FakeBroker()
    settings = Settings(data_dir=tmp_path, environment="test", gtts_enabled=False)
    runtime = ControllerRuntime(
        settings, transport=broker.link("controller"), run_maintenance=False
    )
    runtime.start()
    with runtime.db.session() as session:
        for device_id in DEVICES:
            key = SigningKey.generate().public_key_b64
            register_device(session, device_id, device_id, key, runtime.clock.now())
    with TestClient(create_app(runtime=runtime)) as client:
        # The ward leader sends emergencies; an administrator holds every role.
        client.headers.update(auth_headers(runtime))
        yield client, broker, runtime
    runtime.stop()


def _commands(broker: FakeBroker, runtime: ControllerRuntime, device_id: str) -> list[Command]:
    key = runtime.key.public_key_b64
    out = []
    for published in broker.published(device_topic(device_id, DeviceChannel.COMMAND)):
        body = open_envelope(
            published.payload, Kind.COMMAND, lambda s: key if s == CONTROLLER_SENDER else None
        ).body
        assert isinstance(body, Command)
        out.append(body)
    return out


def _alert(identifier: str, **fields: object) -> dict[str, object]:
    return {
        "identifier": identifier,
        "sender": "ubnd.hangbac@hanoi.gov.vn",
        "sent": "2026-11-22T05:00:00+07:00",
        "event": "Lũ lụt",
        "headline": "Cảnh báo lũ",
        "description": "Nước sông đang lên nhanh. Bà con khu ven sông di chuyển lên chỗ cao ngay.",
        **fields,
    }


def test_an_alert_plays_now_on_every_device_with_emergency_priority(env: Env) -> None:
    api, broker, runtime = env
    made = api.post("/api/v1/emergencies", json=_alert("flood-1"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["state"] == "playing" and body["device_ids"] == list(DEVICES)
    for device_id in DEVICES:
        (command,) = _commands(broker, runtime, device_id)
        assert isinstance(command.order, PlayNow)
        assert command.order.item.priority is Priority.EMERGENCY
        assert command.order.item.broadcast_id == body["broadcast_id"]
    history = api.get(f"/api/v1/bulletins/{body['bulletin_id']}/history").json()
    assert [s["to_status"] for s in history] == ["draft", "submitted", "approved"]
    # The same message again (CAP de-duplication) is not played again.
    again = api.post("/api/v1/emergencies", json=_alert("flood-1"))
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert len(_commands(broker, runtime, "to-1")) == 1


def test_update_replaces_and_cancel_stops_on_every_device(env: Env) -> None:
    api, broker, runtime = env
    first = api.post("/api/v1/emergencies", json=_alert("flood-1")).json()
    update = api.post(
        "/api/v1/emergencies",
        json=_alert(
            "flood-2",
            msg_type="Update",
            references=["flood-1"],
            sent="2026-11-22T05:10:00+07:00",
            description="Nước đã lên tới cầu. Di chuyển ngay.",
        ),
    ).json()
    assert update["state"] == "playing"
    for device_id in DEVICES:
        orders = [c.order for c in _commands(broker, runtime, device_id)]
        assert [type(o) for o in orders] == [PlayNow, StopItem, PlayNow]
        assert isinstance(orders[1], StopItem)
        assert orders[1].item_id == first["broadcast_id"]
        assert "updated by flood-2" in orders[1].reason
    cancel = api.post(
        "/api/v1/emergencies",
        json=_alert(
            "flood-3",
            msg_type="Cancel",
            references=["flood-2"],
            sent="2026-11-22T06:00:00+07:00",
            description="",
        ),
    ).json()
    assert cancel["state"] == "recorded" and cancel["broadcast_id"] is None
    for device_id in DEVICES:
        last = _commands(broker, runtime, device_id)[-1].order
        assert isinstance(last, StopItem) and last.item_id == update["broadcast_id"]
    states = {e["identifier"]: e["state"] for e in api.get("/api/v1/emergencies").json()}
    assert states == {"flood-1": "superseded", "flood-2": "cancelled", "flood-3": "recorded"}


def test_every_emergency_command_names_the_device_whose_topic_carries_it(env: Env) -> None:
    api, broker, runtime = env
    api.post("/api/v1/emergencies", json=_alert("flood-1"))
    update = _alert("flood-2", msg_type="Update", references=["flood-1"])
    api.post("/api/v1/emergencies", json=update | {"sent": "2026-11-22T05:10:00+07:00"})
    cancel = _alert("flood-3", msg_type="Cancel", references=["flood-2"], description="")
    api.post("/api/v1/emergencies", json=cancel | {"sent": "2026-11-22T06:00:00+07:00"})
    for device_id in DEVICES:
        commands = _commands(broker, runtime, device_id)
        assert [type(c.order) for c in commands] == [PlayNow, StopItem, PlayNow, StopItem]
        # Bound to this device alone: replayed on another device's topic, it is refused.
        assert all(c.device_ids == (device_id,) for c in commands)


def test_a_test_message_is_recorded_and_never_sounded(env: Env) -> None:
    api, broker, runtime = env
    made = api.post("/api/v1/emergencies", json=_alert("t-1", status="Test")).json()
    assert made["state"] == "recorded"
    assert _commands(broker, runtime, "to-1") == []


def test_a_bare_cancel_stops_what_it_names(env: Env) -> None:
    """Only msg_type and references: the controller supplies who, when and an identifier."""
    api, broker, runtime = env
    alert = api.post("/api/v1/emergencies", json=_alert("flood-1")).json()
    bare = api.post("/api/v1/emergencies", json={"msg_type": "Cancel", "references": ["flood-1"]})
    assert bare.status_code == 201, bare.text
    cancel = bare.json()
    assert cancel["state"] == "recorded" and cancel["identifier"].startswith("cancel-")
    assert cancel["sender"] == "admin"  # the signed-in account
    for device_id in DEVICES:
        last = _commands(broker, runtime, device_id)[-1].order
        assert isinstance(last, StopItem) and last.item_id == alert["broadcast_id"]
    states = {e["identifier"]: e["state"] for e in api.get("/api/v1/emergencies").json()}
    assert states["flood-1"] == "cancelled"
    # An Alert still says who sent it and when: only a Cancel may leave them out.
    bare_alert = {k: v for k, v in _alert("x").items() if k not in ("sender", "sent")}
    refused = api.post("/api/v1/emergencies", json=bare_alert)
    assert refused.status_code == 422 and "sender, sent" in refused.text


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"expires": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, 422, "expired"),
        ({"msg_type": "Cancel", "description": ""}, 422, "must reference"),
        ({"msg_type": "Update", "references": ["nope"]}, 404, "nope"),
        ({"description": "   "}, 422, "text to speak"),
        ({"device_ids": ["ghost"]}, 404, "ghost"),
        ({"status": "Draft"}, 422, None),
        ({"sent": "2026-11-22T05:00:00"}, 422, None),
    ],
)
def test_bad_emergencies_get_clear_errors_and_sound_nothing(
    env: Env, fields: dict[str, object], status: int, words: str | None
) -> None:
    api, broker, runtime = env
    answer = api.post("/api/v1/emergencies", json=_alert("bad", **fields))
    assert answer.status_code == status, answer.text
    if words:
        assert words in answer.json()["detail"]
    assert _commands(broker, runtime, "to-1") == []
