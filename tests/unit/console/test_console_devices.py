"""The device pages: the reader's loudspeakers only, with plan, recent plays, security records."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from controller.db.models import SecurityRecord
from controller.domain.broadcasts.service import BroadcastRequest
from tests.support.console import WARD_A, sign_in
from tests.unit.controller_support import Harness
from wardcast_protocol.messages import Kind
from wardcast_protocol.topics import DeviceChannel


def test_the_list_shows_only_the_readers_loudspeakers(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    page = client.get("/devices")
    assert page.status_code == 200
    assert 'href="/devices/to-1"' in page.text and "to-2" not in page.text
    assert 'href="/devices"' in page.text  # in the menu


def test_a_device_page_shows_its_plan_plays_and_security_records(
    client: TestClient, h: Harness
) -> None:
    start = h.clock.now() + timedelta(hours=2)
    h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], start))
    h.plan("to-1")
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, h.event("to-1"))
    now = h.clock.now()
    with h.runtime.db.session() as session:
        session.add(
            SecurityRecord(
                received_at=now,
                device_id="to-1",
                origin="device",
                reason="replayed",
                detail="a replayed command",
                occurred_at=now,
                signed="{}",
                sig="",
            )
        )
    sign_in(client, "evaluator", [WARD_A])
    page = client.get("/devices/to-1")
    assert page.status_code == 200, page.text
    assert "Kế hoạch sắp phát" in page.text and "Thông báo" in page.text
    assert "14:00" in page.text  # the broadcast at 07:00 UTC, in Hà Nội's time
    assert "Lần phát gần đây (1 tất cả)" in page.text and "Phát trọn vẹn" in page.text
    assert "a replayed command" in page.text and "loa từ chối" in page.text
    assert 'href="/evidence?device=to-1"' in page.text


def test_another_wards_device_is_refused_and_an_unknown_one_is_not_found(
    client: TestClient,
) -> None:
    sign_in(client, "evaluator", [WARD_A])
    assert client.get("/devices/to-2").status_code == 403
    assert client.get("/devices/nope").status_code == 404


def test_signed_out_a_device_page_returns_after_sign_in(client: TestClient) -> None:
    answer = client.get("/devices/to-1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fdevices%2Fto-1"
