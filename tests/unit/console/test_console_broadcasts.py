"""The broadcast pages: a list and a status that moves, per device; Cancel; SSE; roles."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from controller.console.live import StreamRules
from controller.console.pages import broadcasts as broadcasts_page
from controller.domain.broadcasts.service import BroadcastRequest
from tests.support.console import WARD_A, WARD_B, csrf_of, sign_in
from tests.unit.controller_support import Harness
from wardcast_protocol.messages import Kind
from wardcast_protocol.topics import DeviceChannel


def _scheduled(h: Harness, minutes: int = 30) -> str:
    start = h.clock.now() + timedelta(minutes=minutes)
    return h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], start)).id


def test_the_list_and_status_show_only_the_readers_devices(client: TestClient, h: Harness) -> None:
    broadcast_id = _scheduled(h)
    sign_in(client, "officer", [WARD_A])
    listing = client.get("/broadcasts")
    assert listing.status_code == 200 and f'href="/broadcasts/{broadcast_id}"' in listing.text
    page = client.get(f"/broadcasts/{broadcast_id}")
    assert page.status_code == 200
    assert "to-1" in page.text and "to-2" not in page.text
    assert 'aria-current="step"' in page.text and "Đã lên lịch" in page.text
    assert f'data-sse="/broadcasts/{broadcast_id}/events"' in page.text
    part = client.get(f"/broadcasts/{broadcast_id}/progress", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text


def test_evaluators_and_other_wards_are_refused(client: TestClient, h: Harness) -> None:
    broadcast_id = _scheduled(h)
    h.runtime.broadcasts.schedule(
        BroadcastRequest("bul-1", ["to-2"], h.clock.now() + timedelta(hours=1))
    )
    sign_in(client, "evaluator", [WARD_A])
    assert client.get("/broadcasts").status_code == 403
    token = csrf_of(client.get("/").text)
    answer = client.post(f"/broadcasts/{broadcast_id}/cancel", data={"csrf_token": token})
    assert answer.status_code == 403
    client.cookies.clear()
    sign_in(client, "officer", [WARD_B])
    listing = client.get("/broadcasts").text
    assert listing.count('href="/broadcasts/bc') == 2  # both reach to-2


def test_the_status_moves_as_devices_confirm(client: TestClient, h: Harness) -> None:
    broadcast_id = _scheduled(h, minutes=1)
    sign_in(client, "approver", [WARD_A, WARD_B])
    asyncio.run(h.clock.advance(61))
    assert "Đang phát" in client.get(f"/broadcasts/{broadcast_id}").text
    for seq, device_id in enumerate(("to-1", "to-2"), 1):
        event = h.event(
            device_id,
            event_id=f"ev-{device_id}",
            item_id=broadcast_id,
            broadcast_id=broadcast_id,
            planned_start=h.clock.now() - timedelta(seconds=1),
        )
        h.device_sends(device_id, DeviceChannel.EVENT, Kind.EVENT, event)
        assert seq  # both devices confirm in turn
    page = client.get(f"/broadcasts/{broadcast_id}").text
    assert "Hoàn tất" in page and page.count("Đã phát xong, đã xác nhận") >= 2
    assert 'id="broadcast-cancel"' not in page  # done: nothing to cancel


def test_cancel_keeps_a_too_long_reason_and_then_cancels(client: TestClient, h: Harness) -> None:
    broadcast_id = _scheduled(h)
    sign_in(client, "officer", [WARD_A, WARD_B])
    page = client.get(f"/broadcasts/{broadcast_id}")
    long_reason = "mưa to " * 40
    bad = client.post(
        f"/broadcasts/{broadcast_id}/cancel",
        data={"csrf_token": csrf_of(page.text), "reason": long_reason},
    )
    assert bad.status_code == 422 and "Lý do dài quá 200 ký tự." in bad.text
    assert long_reason.strip() in bad.text
    done = client.post(
        f"/broadcasts/{broadcast_id}/cancel",
        data={"csrf_token": csrf_of(page.text), "reason": "mưa to"},
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"]).text
    assert 'role="status"' in after and "mưa to" in after and "Đã hủy" in after


def test_the_sse_route_is_bounded_and_ends_when_final(
    client: TestClient, h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    broadcast_id = _scheduled(h)
    sign_in(client, "officer", [WARD_A, WARD_B])
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(broadcasts_page, "sleep", no_wait)
    monkeypatch.setattr(broadcasts_page, "RULES", StreamRules(1.0, 3, 700))
    body = client.get(f"/broadcasts/{broadcast_id}/events").text
    assert body.startswith("retry: 700") and body.count("event: progress") == 1
    assert "event: end" not in body and waits == [1.0, 1.0]
    h.runtime.broadcasts.cancel(broadcast_id)
    final = client.get(f"/broadcasts/{broadcast_id}/events").text
    assert "event: end" in final and "Đã hủy" in final and waits == [1.0, 1.0]
