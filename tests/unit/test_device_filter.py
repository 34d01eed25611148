"""Narrowing a thousand loudspeakers: by ward, state and text; counted; a page at a time
(the console's lists), and by ward and state in the API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.domain.devices.service import mark_availability
from controller.domain.overview.device_filter import DeviceFilter, select_devices
from controller.domain.overview.devices import DeviceStatus
from tests.support.auth import auth_headers
from tests.support.console import WARD_A, WARD_B, add_two_wards
from tests.unit.controller_support import make_harness

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def status(
    device_id: str,
    ward: str = "w1",
    *,
    online: bool = True,
    revoked: bool = False,
    name: str = "",
    group: str | None = None,
) -> DeviceStatus:
    return DeviceStatus(
        device_id=device_id,
        name=name or device_id,
        ward_code=ward,
        group_code=group,
        timezone="Asia/Ho_Chi_Minh",
        online=online,
        last_seen_at=NOW,
        clock_offset_s=None,
        clock_suspect=False,
        amplifier_on=None,
        volume=None,
        last_play_at=None,
        enrolled_at=NOW,
        revoked_at=NOW if revoked else None,
        pending_events=None,
    )


FLEET = [
    status("a-1"),
    status("a-2", online=False),
    status("a-3", online=False, revoked=True),  # revoked outranks offline
    status("b-1", "w2", online=False, name="Chợ Hàng Da"),
    status("b-2", "w2", group="to-7"),
]


def ids(rows: list[DeviceStatus]) -> list[str]:
    return [r.device_id for r in rows]


def test_a_state_is_revoked_before_online_or_offline() -> None:
    assert [s.state for s in FLEET] == ["online", "offline", "revoked", "offline", "online"]


def test_no_filter_keeps_every_device_in_order_and_counts_each_state() -> None:
    found = select_devices(FLEET, DeviceFilter(), 100, 0)
    assert ids(found.rows) == ["a-1", "a-2", "a-3", "b-1", "b-2"]
    assert (found.matched, found.total) == (5, 5)
    assert found.by_state == {"offline": 2, "online": 2, "revoked": 1}


def test_the_states_are_counted_within_the_ward_not_within_the_state() -> None:
    found = select_devices(FLEET, DeviceFilter("w1", "offline"), 100, 0)
    assert ids(found.rows) == ["a-2"]
    # What the other choices of state would show in this ward, before choosing them.
    assert found.by_state == {"offline": 1, "online": 1, "revoked": 1}
    assert (found.matched, found.total) == (1, 5)


@pytest.mark.parametrize(
    ("text", "kept"),
    [("B-", ["b-1", "b-2"]), ("hàng da", ["b-1"]), ("TO-7", ["b-2"]), ("  ", None), ("zz", [])],
)
def test_text_is_a_piece_of_the_id_name_or_group_in_any_case(
    text: str, kept: list[str] | None
) -> None:
    found = select_devices(FLEET, DeviceFilter(text=text), 100, 0)
    assert ids(found.rows) == (kept if kept is not None else ids(FLEET))


def test_pages_cut_what_the_filter_keeps() -> None:
    many = [status(f"d-{i:04d}", online=i % 10 != 0) for i in range(250)]
    offline = DeviceFilter(state="offline")
    assert ids(select_devices(many, offline, 10, 0).rows) == [
        f"d-{i:04d}" for i in range(0, 100, 10)
    ]
    last = select_devices(many, offline, 10, 20)
    assert ids(last.rows) == ["d-0200", "d-0210", "d-0220", "d-0230", "d-0240"]
    assert (last.matched, last.total) == (25, 250)
    assert select_devices(many, offline, 10, 30).rows == []


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown device state 'lost'"):
        DeviceFilter(state="lost")


def test_the_device_api_narrows_by_ward_and_state_too(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    try:
        add_two_wards(h.runtime)
        with h.runtime.db.session() as session:
            mark_availability(session, "to-1", True, h.clock.now())
        with TestClient(create_app(runtime=h.runtime)) as api:
            admin = auth_headers(h.runtime)

            def listed(headers: dict[str, str], **params: str) -> list[str]:
                answer = api.get("/api/v1/devices", params=params, headers=headers)
                assert answer.status_code == 200, answer.text
                return [d["id"] for d in answer.json()]

            assert listed(admin) == ["to-1", "to-2"]
            assert listed(admin, state="offline") == ["to-2"]
            assert listed(admin, state="online", ward_code=WARD_B) == []
            assert listed(admin, ward_code=WARD_A) == ["to-1"]
            unknown = api.get("/api/v1/devices", params={"state": "lost"}, headers=admin)
            assert unknown.status_code == 422 and "offline" in unknown.text
            officer = auth_headers(h.runtime, "officer", wards=[WARD_A])
            other = api.get("/api/v1/devices", params={"ward_code": WARD_B}, headers=officer)
            assert other.status_code == 403 and "outside the wards" in other.text
    finally:
        h.runtime.stop()
