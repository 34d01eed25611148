"""The console's pages: roles at the door, ward scope, admin forms, the dashboard."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from controller.console.pages import admin_devices
from controller.db.models import PlannedPlay, SecurityRecord
from controller.domain.accounts import users
from controller.domain.devices.service import mark_availability
from tests.support.console import WARD_A, WARD_B, console_client, csrf_of, sign_in
from tests.unit.controller_support import Harness

# Every console route that changes something, with a form a role might post.
CHANGING = [
    "/admin/users/new",
    "/admin/users/admin",
    "/admin/users/admin/password",
    "/admin/devices",
    "/admin/devices/to-1/code",
    "/admin/devices/to-1/placement",
    "/admin/devices/to-1/revoke",
]
ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/devices", "/admin/devices/to-1/revoke"]


@pytest.mark.parametrize("role", ["evaluator", "officer", "approver"])
def test_no_other_role_reaches_admin_pages_or_their_forms(client: TestClient, role: str) -> None:
    sign_in(client, role, [WARD_A])
    token = csrf_of(client.get("/").text)  # a valid token: the role alone must refuse
    for path in ADMIN_PAGES:
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Không có quyền" in answer.text
    for path in CHANGING:
        answer = client.post(path, data={"csrf_token": token, "username": "x", "roles": "admin"})
        assert answer.status_code == 403, path
    menu = client.get("/").text
    assert 'href="/admin/users"' not in menu and 'href="/admin/devices"' not in menu


def test_a_ward_user_sees_only_their_wards_devices(client: TestClient, h: Harness) -> None:
    with h.runtime.db.session() as session:
        for device in ("to-1", "to-2"):
            mark_availability(session, device, True, h.clock.now())
    sign_in(client, "evaluator", [WARD_A])
    page = client.get("/")
    assert page.status_code == 200
    assert "to-1" in page.text and "to-2" not in page.text
    live = client.get("/dashboard/live", headers={"HX-Request": "true"})
    assert "to-1" in live.text and "<html" not in live.text


def test_admin_creates_a_user_and_a_refusal_keeps_the_form(client: TestClient, h: Harness) -> None:
    sign_in(client)
    token = csrf_of(client.get("/admin/users/new").text)
    bad = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "username": "Bad Name!",
            "display_name": "Trần Thị Bé",
            "password": "a-long-password-1",
            "roles": "officer",
            "wards": WARD_A,
        },
    )
    assert bad.status_code == 422
    assert 'id="e-username"' in bad.text and "Trần Thị Bé" in bad.text
    assert "a-long-password-1" not in bad.text  # passwords are never echoed
    no_role = client.post(
        "/admin/users/new",
        data={"csrf_token": token, "username": "can-bo", "password": "a-long-password-1"},
    )
    assert "Hãy chọn ít nhất một vai trò." in no_role.text
    made = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "username": "can-bo",
            "display_name": "Trần Thị Bé",
            "password": "a-long-password-1",
            "roles": "officer",
            "wards": WARD_A,
        },
    )
    assert (
        made.status_code == 303
        and made.headers["location"] == "/admin/users?done=done.user_created"
    )
    listing = client.get(made.headers["location"])
    assert "Đã tạo tài khoản." in listing.text and "can-bo" in listing.text
    with h.runtime.db.session() as session:
        user = users.get_user(session, "can-bo")
        assert user.roles == ["officer"] and user.wards == [WARD_A]
    taken = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "username": "can-bo",
            "password": "a-long-password-1",
            "roles": "officer",
        },
    )
    assert taken.status_code == 422 and "Tên đăng nhập này đã có người dùng." in taken.text


def test_admin_changes_roles_and_deactivates(client: TestClient, h: Harness) -> None:
    sign_in(client)
    sign_in_other = console_client(h.runtime)
    sign_in(sign_in_other, "officer", [WARD_A])
    form = client.get("/admin/users/officer-00037")
    assert 'value="officer" checked' in form.text
    saved = client.post(
        "/admin/users/officer-00037",
        data={
            "csrf_token": csrf_of(form.text),
            "roles": ["officer", "approver"],
            "wards": [WARD_A, WARD_B],
            "display_name": "Cán bộ",
        },
    )  # "active" unticked: deactivated
    assert saved.status_code == 303
    with h.runtime.db.session() as session:
        user = users.get_user(session, "officer-00037")
        assert user.roles == ["approver", "officer"] and not user.active
        assert user.wards == [WARD_A, WARD_B]
    assert sign_in_other.get("/").status_code == 303  # their session ended at once
    last_admin = client.post(
        "/admin/users/admin",
        data={"csrf_token": csrf_of(form.text), "roles": "officer", "active": "1"},
    )
    assert last_admin.status_code == 422 and "quản trị viên cuối cùng" in last_admin.text
    short = client.post(
        "/admin/users/officer-00037/password",
        data={"csrf_token": csrf_of(form.text), "password": "short"},
    )
    assert short.status_code == 422 and 'id="e-password"' in short.text
    reset = client.post(
        "/admin/users/officer-00037/password",
        data={"csrf_token": csrf_of(form.text), "password": "a-fresh-password-1"},
    )
    assert reset.status_code == 303 and reset.headers["location"].endswith("done.password_reset")


def test_admin_enrols_a_device_sees_the_code_once_and_revokes_it(
    client: TestClient, h: Harness
) -> None:
    sign_in(client)
    page = client.get("/admin/devices")
    token = csrf_of(page.text)
    bad = client.post("/admin/devices", data={"csrf_token": token, "device_id": "bad id!"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    made = client.post(
        "/admin/devices", data={"csrf_token": token, "device_id": "to-9", "name": "Tổ 9"}
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    assert "wardcast-enrol:" in made.text and "to-9" in made.text
    again = client.post("/admin/devices", data={"csrf_token": token, "device_id": "to-9"})
    assert again.status_code == 422  # exists: a new code is a separate, deliberate act
    code = client.post("/admin/devices/to-9/code", data={"csrf_token": token})
    assert code.status_code == 200 and "wardcast-enrol:" in code.text
    placed = client.post(
        "/admin/devices/to-2/placement", data={"csrf_token": token, "placement": f"{WARD_A}|to-1"}
    )
    assert placed.status_code == 303
    listing = client.get(placed.headers["location"])
    assert "Đã lưu nơi đặt thiết bị." in listing.text
    assert f'value="{WARD_A}|to-1" selected' in listing.text
    wrong = client.post(
        "/admin/devices/to-2/placement", data={"csrf_token": token, "placement": f"{WARD_A}|nope"}
    )
    assert wrong.status_code == 422 and "text/html" in wrong.headers["content-type"]
    confirm = client.get("/admin/devices/to-1/revoke")
    assert confirm.status_code == 200
    revoked = client.post("/admin/devices/to-1/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert "Đã thu hồi" in client.get(revoked.headers["location"]).text
    missing = client.post("/admin/devices/nope/revoke", data={"csrf_token": token})
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]


def test_the_dashboard_shows_state_sessions_and_alerts_in_ward_time(
    client: TestClient, h: Harness
) -> None:
    now = h.clock.now()  # 05:00 UTC = 12:00 in Hà Nội
    with h.runtime.db.session() as session:
        mark_availability(session, "to-1", True, now)
        for item, start, duration in (
            ("it-now", now - timedelta(seconds=30), 300.0),
            ("it-missed", now - timedelta(hours=2), 60.0),
        ):
            session.add(
                PlannedPlay(
                    device_id="to-1",
                    item_id=item,
                    ward_code=WARD_A,
                    broadcast_id=f"bc-{item}",
                    bulletin_id="bul-1",
                    session_key="sang-2026-11-22",
                    kind="media",
                    source_level="commune",
                    priority="normal",
                    trigger="scheduled",
                    planned_start=start,
                    planned_duration_s=duration,
                    first_planned_at=now,
                )
            )
        session.add(
            SecurityRecord(
                received_at=now,
                device_id="to-1",
                origin="controller",
                reason="replayed",
                detail="a replayed command",
                occurred_at=now,
                signed="{}",
                sig="",
            )
        )
    sign_in(client, "officer", [WARD_A])
    page = client.get("/").text
    assert "Thông báo: 11:59–12:04" in page  # playing now, in the ward's time
    assert "sang-2026-11-22" in page and "0/2 lượt" in page
    assert "chưa xác nhận lượt phát lúc 22/11/2026 10:00" in page
    assert "Bản ghi an ninh từ to-1" in page and "replayed" in page
    assert "Trực tuyến" in page
    client.cookies.set("wardcast_lang", "en")
    english = client.get("/").text
    assert "Playing now" in english and "Devices online" in english


def test_htmx_after_the_session_expired_sends_the_whole_page_to_sign_in(
    client: TestClient, h: Harness
) -> None:
    sign_in(client)
    asyncio.run(h.clock.advance(9 * 3600))
    live = client.get(
        "/dashboard/live",
        headers={"HX-Request": "true", "HX-Current-URL": "https://testserver/?week=48"},
    )
    assert live.status_code == 200
    assert live.headers["HX-Redirect"] == "/login?next=%2F%3Fweek%3D48&expired=1"


def test_the_admin_device_list_is_filtered_and_each_row_places_in_its_own_ward_when_many(
    client: TestClient, h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client)
    few = client.get("/admin/devices")
    # Two wards of one group each: every choice on every row, as a ward's admin expects.
    assert few.text.count(f'<option value="{WARD_B}|to-2"') == 2
    assert 'href="/admin/devices/to-1/placement"' not in few.text
    only_a = client.get("/admin/devices", params={"ward": WARD_A})
    assert "<td>to-1<br>" in only_a.text and "<td>to-2<br>" not in only_a.text
    assert client.get("/admin/devices", params={"state": "lost"}).status_code == 422

    monkeypatch.setattr(admin_devices, "INLINE_PLACEMENTS", 2)  # as a province's 1,100
    many = client.get("/admin/devices", params={"ward": WARD_A})
    row = many.text[many.text.index("<td>to-1<br>") :]
    row = row[: row.index("</tr>")]
    assert f'value="{WARD_A}|to-1" selected' in row and f'value="{WARD_B}' not in row
    assert 'href="/admin/devices/to-1/placement"' in row
    elsewhere = client.get("/admin/devices/to-1/placement")
    assert elsewhere.status_code == 200
    assert f'<option value="{WARD_A}|to-1" selected>' in elsewhere.text
    assert f'<option value="{WARD_B}|to-2">' in elsewhere.text
    moved = client.post(
        "/admin/devices/to-1/placement",
        data={"csrf_token": csrf_of(elsewhere.text), "placement": f"{WARD_B}|to-2"},
    )
    assert moved.status_code == 303
    assert client.get("/admin/devices/nope/placement").status_code == 404
