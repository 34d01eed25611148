"""The emergency page: who may send, two steps, inline errors, live progress by SSE."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from controller.console.live import StreamRules
from controller.console.pages import emergency_live
from controller.db.models import Broadcast, Emergency
from tests.support.console import WARD_A, WARD_B, add_two_wards, csrf_of, sign_in
from tests.unit.controller_support import Harness, make_harness, speak_without_tts
from wardcast_protocol.messages import Kind, Trigger
from wardcast_protocol.topics import DeviceChannel

FLOOD = "Nước sông Hồng đang lên nhanh. Bà con tổ 1 di chuyển lên nhà văn hóa phường."


@pytest.fixture
def h(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    add_two_wards(harness.runtime)
    speak_without_tts(harness.runtime, monkeypatch)
    yield harness
    harness.runtime.stop()


def _review(client: TestClient, **fields: Any) -> Any:
    token = csrf_of(client.get("/emergency").text)
    data = {"csrf_token": token, "ward": WARD_A, "source": "text", **fields}
    return client.post("/emergency", data=data)


def _send(client: TestClient, text: str = FLOOD) -> str:
    review = _review(client, headline="Lũ khẩn cấp", text=text)
    assert review.status_code == 200, review.text
    answer = client.post(
        "/emergency/confirm",
        data={
            "csrf_token": csrf_of(review.text),
            "ward": WARD_A,
            "source": "text",
            "headline": "Lũ khẩn cấp",
            "text": text,
            "action": "send",
        },
    )
    assert answer.status_code == 303, answer.text
    location: str = answer.headers["location"]
    assert location.startswith("/emergency/em")
    return location.split("?")[0]


def test_an_officer_sees_the_form_but_only_a_leader_may_send(client: TestClient) -> None:
    sign_in(client, "officer", [WARD_A])
    page = client.get("/emergency")
    assert page.status_code == 200
    assert "lãnh đạo phường" in page.text and 'name="text"' in page.text
    token = csrf_of(page.text)
    refused = client.post("/emergency", data={"csrf_token": token, "ward": WARD_A, "text": "x"})
    assert refused.status_code == 403
    assert client.post("/emergency/confirm", data={"csrf_token": token}).status_code == 403


def test_an_evaluator_gets_the_403_page(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    assert client.get("/emergency").status_code == 403
    token = csrf_of(client.get("/").text)
    assert client.post("/emergency", data={"csrf_token": token}).status_code == 403


def test_bad_input_is_shown_inline_and_what_was_typed_stays(client: TestClient) -> None:
    sign_in(client, "approver", [WARD_A])
    answer = _review(client, ward=WARD_B, headline="Lũ", text="")
    assert answer.status_code == 422
    assert "Hãy chọn một phường của bạn." in answer.text  # ward B is not theirs
    assert "Hãy nhập nội dung cần đọc." in answer.text
    assert 'value="Lũ"' in answer.text
    kept = _review(client, text="", headline="Sơ tán ngay")
    assert kept.status_code == 422 and 'value="Sơ tán ngay"' in kept.text
    assert 'aria-invalid="true"' in kept.text


def test_review_sends_nothing_and_back_keeps_the_text(client: TestClient, h: Harness) -> None:
    sign_in(client, "approver", [WARD_A])
    review = _review(client, text=FLOOD)
    assert review.status_code == 200
    assert "1 loa sẽ phát ngay" in review.text and "to-1" in review.text
    with h.runtime.db.session() as session:
        assert session.query(Emergency).count() == 0
    back = client.post(
        "/emergency/confirm",
        data={"csrf_token": csrf_of(review.text), "ward": WARD_A, "text": FLOOD, "action": "back"},
    )
    assert back.status_code == 200 and FLOOD in back.text and 'id="f-text"' in back.text
    with h.runtime.db.session() as session:
        assert session.query(Emergency).count() == 0


def test_confirm_sends_and_the_progress_page_shows_each_device(
    client: TestClient, h: Harness
) -> None:
    sign_in(client, "approver", [WARD_A])
    path = _send(client)
    page = client.get(path)
    assert page.status_code == 200
    assert "to-1" in page.text and "to-2" not in page.text
    assert "Đang phát" in page.text  # due now on the device, not confirmed yet
    assert f'data-sse="{path}/events"' in page.text and f'hx-get="{path}/progress"' in page.text
    part = client.get(f"{path}/progress", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text and "to-1" in part.text


class FakeTime:
    """The stream's sleep: it records the wait and runs what should happen meanwhile."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.on_sleep: list[Callable[[], None]] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep:
            self.on_sleep.pop(0)()


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(emergency_live, "sleep", fake.sleep)
    return fake


def test_the_sse_route_streams_changes_then_ends(
    client: TestClient, h: Harness, fake_time: FakeTime
) -> None:
    sign_in(client, "approver", [WARD_A])
    path = _send(client)
    with h.runtime.db.session() as session:
        broadcast_id = session.query(Emergency).one().broadcast_id
    assert broadcast_id is not None
    # Between the first and the second read, the device confirms its play.
    fake_time.on_sleep.append(lambda: _confirm(h, broadcast_id))
    answer = client.get(f"{path}/events")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    body = answer.text
    assert body.startswith("retry: ")
    first, second = body.split("event: progress")[1:]
    assert "Đang phát" in first and "<html" not in first
    assert "Đã phát, đã xác nhận" in second and "Đã kết thúc" in second
    assert body.rstrip().endswith("event: end\ndata:")
    assert fake_time.sleeps == [emergency_live.RULES.interval_s]  # over: it stopped by itself


def test_the_stream_is_bounded_and_keeps_the_line_alive(
    client: TestClient, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, "approver", [WARD_A])
    path = _send(client)
    monkeypatch.setattr(emergency_live, "RULES", StreamRules(1.0, 10, 500, heartbeat_s=3.0))
    body = client.get(f"{path}/events").text
    assert body.startswith("retry: 500")
    assert body.count("event: progress") == 1  # nothing changed after the first
    assert body.count(": heartbeat") == 3  # after 3, 6 and 9 quiet seconds
    assert "event: end" not in body  # not over: the browser will reconnect
    assert len(fake_time.sleeps) == 9  # ten reads, nine waits, then it ends


def test_cancel_asks_once_more_then_stops_it(client: TestClient, h: Harness) -> None:
    sign_in(client, "approver", [WARD_A])
    path = _send(client)
    ask = client.get(f"{path}/cancel")
    assert ask.status_code == 200 and "Xác nhận dừng phát" in ask.text
    done = client.post(f"{path}/cancel", data={"csrf_token": csrf_of(ask.text)})
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Đã hủy" in page.text and 'id="emergency-cancel"' not in page.text
    with h.runtime.db.session() as session:
        states = {e.msg_type: e.state for e in session.query(Emergency)}
    assert states["Alert"] == "cancelled" and "Cancel" in states


def test_an_update_is_reviewed_then_replaces_the_alert(client: TestClient, h: Harness) -> None:
    sign_in(client, "approver", [WARD_A])
    path = _send(client)
    page = client.get(path)
    with h.runtime.db.session() as session:
        identifier = session.query(Emergency).one().identifier
    fields = {
        "ward": WARD_A,
        "references": identifier,
        "devices": "to-1",
        "source": "text",
        "text": "Nước đã rút. Bà con có thể trở về nhà.",
    }
    review = client.post("/emergency", data={"csrf_token": csrf_of(page.text), **fields})
    assert review.status_code == 200 and identifier in review.text
    sent = client.post(
        "/emergency/confirm",
        data={"csrf_token": csrf_of(review.text), "action": "send", **fields},
    )
    assert sent.status_code == 303
    with h.runtime.db.session() as session:
        states = {e.msg_type: e.state for e in session.query(Emergency)}
    assert states == {"Alert": "superseded", "Update": "playing"}


def test_another_wards_emergency_is_refused(client: TestClient, h: Harness) -> None:
    sign_in(client, "approver", [WARD_A])
    path = _send(client)
    client.cookies.clear()
    sign_in(client, "approver", [WARD_B])
    assert client.get(path).status_code == 403
    assert client.get(f"{path}/events").status_code == 403


def _confirm(h: Harness, broadcast_id: str) -> None:
    """to-1 confirms its play of the broadcast, signed, through the controller's bridge."""
    event = h.event(
        "to-1",
        item_id=broadcast_id,
        broadcast_id=broadcast_id,
        trigger=Trigger.EMERGENCY,
        planned_start=h.clock.now(),
    )
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, event)


def test_a_prepared_clip_is_reviewed_then_broadcast_with_emergency_priority(
    client: TestClient, h: Harness
) -> None:
    sign_in(client, "approver", [WARD_A])
    form = client.get("/emergency")
    assert 'id="f-source-clip"' in form.text and 'value="bul-1"' in form.text
    missing = _review(client, source="clip", clip="")
    assert missing.status_code == 422 and "Hãy chọn một bản tin đã duyệt." in missing.text
    review = _review(client, source="clip", clip="bul-1")
    assert review.status_code == 200 and "Thông báo" in review.text
    sent = client.post(
        "/emergency/confirm",
        data={
            "csrf_token": csrf_of(review.text),
            "ward": WARD_A,
            "source": "clip",
            "clip": "bul-1",
            "action": "send",
        },
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/broadcasts/bc")
    page = client.get(sent.headers["location"])
    assert "Ưu tiên phát" in page.text and "to-1" in page.text and "to-2" not in page.text
    with h.runtime.db.session() as session:
        (broadcast,) = session.query(Broadcast).all()
        assert broadcast.priority == "emergency" and broadcast.immediate


def test_groups_narrow_the_target_and_an_unknown_one_is_said_inline(client: TestClient) -> None:
    sign_in(client, "approver", [WARD_A])
    form = client.get("/emergency")
    assert 'name="groups"' in form.text and "Tổ dân phố 1" in form.text
    review = _review(client, groups="to-1", text=FLOOD)
    assert review.status_code == 200 and "Tổ dân phố 1" in review.text
    unknown = _review(client, groups="to-9", text=FLOOD)
    assert unknown.status_code == 422 and "Không có loa nào ở nơi đã chọn" in unknown.text
    assert FLOOD in unknown.text
