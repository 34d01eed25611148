"""The controller's HTTP API against the real broker, ffmpeg and espeak-ng."""

from __future__ import annotations

import hashlib
import queue
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.composition import ControllerRuntime
from controller.domain.devices.service import register_device
from controller.messaging.broker import EmbeddedBroker
from controller.settings import Settings
from tests.support.auth import auth_headers
from wardcast_protocol.envelope import CONTROLLER_SENDER, open_envelope, seal
from wardcast_protocol.messages import (
    Command,
    EventAck,
    Kind,
    Outcome,
    PlaybackEvent,
    PlayNow,
    Trigger,
)
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel, device_topic
from wardcast_protocol.transport import BrokerAddress

pytestmark = pytest.mark.integration

TEXT = "Ủy ban nhân dân phường thông báo: ngày mai cắt nước từ 8 giờ đến 11 giờ."


class ApiClient(TestClient):
    """The app's test client, holding the runtime it serves for tests that look past HTTP."""

    runtime: ControllerRuntime


@pytest.fixture
def device_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def api(tmp_path: Path, broker: EmbeddedBroker, device_key: SigningKey) -> Iterator[ApiClient]:
    settings = Settings(
        data_dir=tmp_path,
        broker_url=broker.url,
        gtts_enabled=False,  # the engine pinned: the same answer with or without internet
        max_text_chars=400,
        max_upload_bytes=2 * 1024 * 1024,
        environment="test",
    )
    runtime = ControllerRuntime(settings)
    with ApiClient(create_app(runtime=runtime)) as client:
        runtime.start()
        with runtime.db.session() as session:
            register_device(session, "to-1", "Tổ 1", device_key.public_key_b64, runtime.clock.now())
        client.runtime = runtime
        client.headers.update(auth_headers(runtime))  # an administrator
        yield client
        runtime.stop()


@pytest.fixture
def draft(api: TestClient) -> dict[str, Any]:
    made = api.post("/api/v1/bulletins", json={"title": "Cắt nước", "text": TEXT})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def leader_of(api: ApiClient) -> dict[str, str]:
    """An approver (the ward leader) who is not the author: nobody approves their own."""
    return auth_headers(api.runtime, "approver", username="chu-tich", all_wards=True)


@pytest.fixture
def bulletin(api: ApiClient, draft: dict[str, Any]) -> dict[str, Any]:
    """An approved bulletin."""
    assert api.post(f"/api/v1/bulletins/{draft['id']}/submit").status_code == 200
    approved = api.post(f"/api/v1/bulletins/{draft['id']}/approve", headers=leader_of(api))
    assert approved.status_code == 200, approved.text
    body: dict[str, Any] = approved.json()
    return body


def test_a_text_bulletin_is_spoken_offline_and_served_by_its_hash(
    api: TestClient, bulletin: dict[str, Any]
) -> None:
    # The offline voice, pinned by the fixture (gTTS would answer on a connected laptop).
    assert bulletin["tts_engine"] == "espeak-ng"
    assert bulletin["text"] == TEXT
    assert 3 < bulletin["media"]["duration_s"] < 30
    media = api.get(bulletin["media"]["url"].removeprefix("http://127.0.0.1:8000"))
    assert media.status_code == 200
    assert hashlib.sha256(media.content).hexdigest() == bulletin["media"]["sha256"]
    assert media.content[:4] == b"OggS"
    assert api.get(f"/api/v1/bulletins/{bulletin['id']}").json()["id"] == bulletin["id"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"title": "x", "text": "   "}, 422, "empty"),
        ({"title": "x", "text": "a " * 300}, 413, "limit is 400"),
        ({"title": "", "text": "abc"}, 422, None),
        ({"title": "x"}, 422, None),
        ({"title": "x", "text": "abc", "colour": "red"}, 422, None),
    ],
)
def test_bad_bulletin_text_gets_a_clear_error(
    api: TestClient, body: dict[str, str], status: int, words: str | None
) -> None:
    answer = api.post("/api/v1/bulletins", json=body)
    assert answer.status_code == status
    if words:
        assert words in answer.json()["detail"]


def test_bad_json_gets_a_clear_error(api: TestClient) -> None:
    answer = api.post(
        "/api/v1/bulletins", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b"this is not audio at all" * 10, 422, "refused"),
        (b"", 422, "empty"),
        (b"\x00" * (3 * 1024 * 1024), 413, "larger than 2 MiB"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    api: TestClient, content: bytes, status: int, words: str | None
) -> None:
    answer = api.post(
        "/api/v1/bulletins/upload",
        data={"title": "Bản tin"},
        files={"file": ("ban-tin.mp3", content, "audio/mpeg")},
    )
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]
    assert api.get("/api/v1/bulletins").json() == []


def test_an_uploaded_recording_is_prepared(api: TestClient, tmp_path: Path) -> None:
    import subprocess

    wav = tmp_path / "tone.wav"
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "44100",
            "-c",
            "2",
            str(wav),
            "synth",
            "3",
            "sine",
            "440",
            "vol",
            "0.3",
        ],
        check=True,
    )
    answer = api.post(
        "/api/v1/bulletins/upload",
        data={"title": "Nhạc hiệu", "source_level": "provincial"},
        files={"file": ("tone.wav", wav.read_bytes(), "audio/wav")},
    )
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made["origin"] == "upload" and made["source_level"] == "provincial"
    assert made["media"]["duration_s"] == pytest.approx(3.0, abs=0.2)


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"device_ids": ["nope"]}, 404, "nope"),
        ({"bulletin_id": "bul-nope"}, 404, "bul-nope"),
        ({"start_at": "2020-01-01T00:00:00Z"}, 422, "in the past"),
        ({"start_at": "2030-01-01T00:00:00"}, 422, None),
        ({"device_ids": []}, 422, None),
    ],
)
def test_bad_broadcasts_get_a_clear_error(
    api: TestClient,
    bulletin: dict[str, Any],
    change: dict[str, object],
    status: int,
    words: str | None,
) -> None:
    body = {"bulletin_id": bulletin["id"], "device_ids": ["to-1"]} | change
    answer = api.post("/api/v1/broadcasts", json=body)
    assert answer.status_code == status, answer.text
    if words:
        assert words in answer.json()["detail"]


def test_a_broadcast_now_reaches_the_device_and_its_confirmation_is_evidence(
    api: ApiClient, bulletin: dict[str, Any], broker: EmbeddedBroker, device_key: SigningKey
) -> None:
    runtime = api.runtime
    controller_key = runtime.key.public_key_b64
    device = MqttLink(BrokerAddress.parse(broker.url), "to-1")
    inbox: queue.Queue[bytes] = queue.Queue()
    device.subscribe(device_topic("to-1", DeviceChannel.COMMAND), lambda m: inbox.put(m.payload))
    device.subscribe(device_topic("to-1", DeviceChannel.ACK), lambda m: inbox.put(m.payload))
    device.start()
    assert device.wait_connected(5)

    made = api.post(
        "/api/v1/broadcasts", json={"bulletin_id": bulletin["id"], "device_ids": ["to-1"]}
    )
    assert made.status_code == 201, made.text
    command = open_envelope(
        inbox.get(timeout=5),
        Kind.COMMAND,
        lambda s: controller_key if s == CONTROLLER_SENDER else None,
    ).body
    assert isinstance(command, Command) and isinstance(command.order, PlayNow)
    item = command.order.item
    assert item.broadcast_id == made.json()["id"]

    now = datetime.now(UTC)
    event = PlaybackEvent(
        event_id="ev-42",
        device_id="to-1",
        seq=1,
        prev_hash="",
        item_id=item.item_id,
        broadcast_id=item.broadcast_id,
        bulletin_id=item.bulletin_id,
        trigger=Trigger.MANUAL,
        planned_start=item.planned_start,
        planned_duration_s=item.media.duration_s,
        actual_start=item.planned_start + timedelta(milliseconds=80),
        played_duration_s=item.media.duration_s,
        outcome=Outcome.COMPLETED,
        recorded_at=now,
    )
    wire = seal(Kind.EVENT, event, "to-1", device_key, now)
    device.publish(device_topic("to-1", DeviceChannel.EVENT), wire)
    ack = open_envelope(
        inbox.get(timeout=5), Kind.ACK, lambda s: controller_key if s == CONTROLLER_SENDER else None
    ).body
    assert isinstance(ack, EventAck)
    assert ack.event_ids == ("ev-42",)

    shown = api.get(f"/api/v1/broadcasts/{item.broadcast_id}").json()
    # The confirmation as it always read; each target now also says its state and place.
    keys = ("device_id", "outcome", "actual_start", "played_duration_s", "reason")
    assert [{k: t[k] for k in keys} for t in shown["targets"]] == [
        {
            "device_id": "to-1",
            "outcome": "completed",
            "actual_start": shown["targets"][0]["actual_start"],
            "played_duration_s": pytest.approx(item.media.duration_s),
            "reason": None,
        }
    ]
    assert (shown["status"], shown["targets"][0]["state"]) == ("done", "completed")
    rows = api.get("/api/v1/evidence", params={"device_id": "to-1"}).json()
    assert [r["event_id"] for r in rows] == ["ev-42"]
    assert rows[0]["start_offset_s"] == pytest.approx(0.08, abs=0.001)
    device.stop()


def test_an_api_token_guards_changing_calls(tmp_path: Path, broker: EmbeddedBroker) -> None:
    settings = Settings(data_dir=tmp_path, broker_url=broker.url, environment="test")
    runtime = ControllerRuntime(settings)
    with TestClient(create_app(runtime=runtime)) as client:
        runtime.start()
        body = {"device_id": "to-9", "public_key": SigningKey.generate().public_key_b64}
        assert client.post("/api/v1/devices", json=body).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post("/api/v1/devices", json=body, headers=wrong).status_code == 401
        right = auth_headers(runtime)
        assert client.post("/api/v1/devices", json=body, headers=right).status_code == 201
        assert client.post("/api/v1/devices", json=body, headers=right).status_code == 200
        other = body | {"public_key": SigningKey.generate().public_key_b64}
        assert client.post("/api/v1/devices", json=other, headers=right).status_code == 409
        # Reading is no longer anonymous either; health is the one open door.
        assert client.get("/api/v1/devices").status_code == 401
        assert client.get("/api/v1/devices", headers=right).status_code == 200
        assert client.get("/api/v1/health").json()["broker_connected"] is True
        runtime.stop()


def test_media_names_that_are_not_hashes_are_404_not_500(api: ApiClient) -> None:
    signer = api.runtime.media_signer.at(api.runtime.clock.now())
    for name in ("not-a-hash", "../../etc/passwd", "ab" * 32 + ".ogg"):
        # Signed as the controller would sign the name's hash part: past the signature
        # check, the name itself must be a clean 404.
        query = urlsplit(signer.url(name.partition(".")[0], "ogg")).query
        assert api.get(f"/media/{name}?{query}").status_code == 404


def test_only_approved_valid_content_can_be_broadcast(
    api: ApiClient, draft: dict[str, Any]
) -> None:
    body = {"bulletin_id": draft["id"], "device_ids": ["to-1"]}
    refused = api.post("/api/v1/broadcasts", json=body)
    assert refused.status_code == 422
    assert "draft, not approved" in refused.json()["detail"]
    assert api.post(f"/api/v1/bulletins/{draft['id']}/approve").status_code == 409
    assert api.post(f"/api/v1/bulletins/{draft['id']}/submit").status_code == 200
    no_reason = api.post(f"/api/v1/bulletins/{draft['id']}/reject", json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    rejected = api.post(f"/api/v1/bulletins/{draft['id']}/reject", json={"reason": "Sai giờ"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "Sai giờ"
    assert api.post("/api/v1/broadcasts", json=body).status_code == 422
    api.post(f"/api/v1/bulletins/{draft['id']}/submit")
    leader = leader_of(api)
    assert api.post(f"/api/v1/bulletins/{draft['id']}/approve", headers=leader).status_code == 200
    assert api.post("/api/v1/broadcasts", json=body).status_code == 201
    steps = api.get(f"/api/v1/bulletins/{draft['id']}/history").json()
    assert [(s["from_status"], s["to_status"]) for s in steps] == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "rejected"),
        ("rejected", "submitted"),
        ("submitted", "approved"),
    ]
    assert steps[-1]["actor"] == "chu-tich"
    assert steps[2]["reason"] == "Sai giờ"


def test_content_outside_its_validity_is_not_aired(api: ApiClient) -> None:
    until = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    made = api.post(
        "/api/v1/bulletins", json={"title": "Hết hạn", "text": TEXT, "valid_until": until}
    ).json()
    api.post(f"/api/v1/bulletins/{made['id']}/submit")
    api.post(f"/api/v1/bulletins/{made['id']}/approve", headers=leader_of(api))
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = {"bulletin_id": made["id"], "device_ids": ["to-1"], "start_at": later}
    refused = api.post("/api/v1/broadcasts", json=body)
    assert refused.status_code == 422 and "expired" in refused.json()["detail"]
    inverted = api.post(
        "/api/v1/bulletins",
        json={"title": "x", "text": TEXT, "valid_from": later, "valid_until": until},
    )
    assert inverted.status_code == 422 and "ends before it starts" in inverted.json()["detail"]


def test_roles_decide_who_may_approve(tmp_path: Path, broker: EmbeddedBroker) -> None:
    settings = Settings(data_dir=tmp_path, broker_url=broker.url, environment="test")
    runtime = ControllerRuntime(settings)
    with TestClient(create_app(runtime=runtime)) as client:
        runtime.start()
        officer = auth_headers(runtime, "officer", username="can-bo-a", all_wards=True)
        leader = auth_headers(runtime, "approver", username="chu-tich-b", all_wards=True)
        made = client.post(
            "/api/v1/bulletins", json={"title": "t", "text": TEXT}, headers=officer
        ).json()
        assert made["created_by"] == "can-bo-a"
        path = f"/api/v1/bulletins/{made['id']}"
        assert client.post(f"{path}/submit", headers=officer).status_code == 200
        forbidden = client.post(f"{path}/approve", headers=officer)
        assert forbidden.status_code == 403 and "approver" in forbidden.json()["detail"]
        assert client.post(f"{path}/approve", headers=leader).status_code == 200
        assert client.post(f"{path}/approve").status_code == 401
        runtime.stop()


def test_nobody_approves_their_own_bulletin(api: ApiClient, draft: dict[str, Any]) -> None:
    path = f"/api/v1/bulletins/{draft['id']}"
    # The administrator wrote it (the api fixture's account) and submits it...
    assert api.post(f"{path}/submit").status_code == 200
    own = api.post(f"{path}/approve")
    assert own.status_code == 403
    assert "nobody approves their own bulletin" in own.json()["detail"]
    # ...nor may an approver who submitted it on someone's behalf.
    both = auth_headers(api.runtime, username="both", roles=["officer", "approver"], all_wards=True)
    assert api.post(f"{path}/withdraw", headers=both).status_code == 200
    assert api.post(f"{path}/submit", headers=both).status_code == 200
    refused = api.post(f"{path}/approve", headers=both)
    assert refused.status_code == 403 and "submitted" in refused.json()["detail"]
    assert api.post(f"{path}/approve", headers=leader_of(api)).json()["status"] == "approved"
