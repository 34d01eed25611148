"""The device pages: the reader's loudspeakers only, with plan, recent plays, security records."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from controller.console.pages.devices import PAGE_SIZE
from controller.db.models import Device, SecurityRecord
from controller.domain.broadcasts.service import BroadcastRequest
from tests.support.console import WARD_A, WARD_B, sign_in
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


def _online(h: Harness, *device_ids: str) -> None:
    """These devices said they are online, just now."""
    with h.runtime.db.session() as session:
        for device in session.scalars(select(Device).where(Device.id.in_(device_ids))):
            device.online, device.last_seen_at = True, h.clock.now()


def _links(html: str) -> list[str]:
    return re.findall(r'<a href="/devices/([^"]+)">', html)


def test_the_list_narrows_by_state_ward_and_text(client: TestClient, h: Harness) -> None:
    _online(h, "to-1")
    sign_in(client, "admin")
    everyone = client.get("/devices")
    assert _links(everyone.text) == ["to-1", "to-2"]
    assert "2 trong 2 cụm loa" in everyone.text
    # The silent ones are counted, a click away.
    assert 'href="/devices?state=offline" id="devices-offline">xem 1 cụm loa' in everyone.text
    offline = client.get("/devices", params={"state": "offline"})
    assert _links(offline.text) == ["to-2"] and "1 trong 2 cụm loa" in offline.text
    assert 'id="devices-offline"' not in offline.text
    assert "Trực tuyến (1)" in offline.text  # the other state, counted before it is chosen
    assert _links(client.get("/devices", params={"ward": WARD_A}).text) == ["to-1"]
    assert _links(client.get("/devices", params={"q": "TO-2"}).text) == ["to-2"]
    none = client.get("/devices", params={"ward": WARD_A, "state": "revoked"})
    assert _links(none.text) == [] and "Không có cụm loa nào khớp bộ lọc" in none.text


def test_a_filter_the_reader_could_not_choose_is_said_inline(client: TestClient) -> None:
    sign_in(client, "evaluator", [WARD_A])
    other_ward = client.get("/devices", params={"ward": WARD_B})
    assert other_ward.status_code == 422
    assert "Hãy chọn một phường của bạn." in other_ward.text
    assert _links(other_ward.text) == ["to-1"]  # still the reader's own, not the other ward's
    unknown = client.get("/devices", params={"state": "lost", "page": "x"})
    assert unknown.status_code == 422 and "Hãy chọn một mục trong danh sách." in unknown.text
    assert _links(unknown.text) == ["to-1"]


def test_many_loudspeakers_come_a_page_at_a_time(client: TestClient, h: Harness) -> None:
    now = h.clock.now()
    with h.runtime.db.session() as session:
        session.add_all(
            Device(id=f"loa-{i:03d}", public_key="k", registered_at=now, ward_code=WARD_A)
            for i in range(250)
        )
    sign_in(client, "admin")
    first = client.get("/devices", params={"ward": WARD_A})
    assert len(_links(first.text)) == PAGE_SIZE and "Trang 1/3" in first.text
    assert 'href="/devices?ward=00037&amp;page=2" rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    last = client.get("/devices", params={"ward": WARD_A, "page": "3"})
    assert _links(last.text) == [f"loa-{i:03d}" for i in range(200, 250)] + ["to-1"]
    assert 'rel="next"' not in last.text
    assert (
        client.get("/devices", params={"ward": WARD_A, "page": "99"}).text.count("Trang 3/3") == 1
    )  # past the end: the last page
    assert _links(client.get("/devices", params={"page": "-4"}).text)[0] == "loa-000"
