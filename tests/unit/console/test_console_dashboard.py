"""The dashboard in words a ward officer recognises: titles, not ids; offsets as written."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from controller.console.numbers import rate, signed
from controller.db.models import Bulletin, Device, MediaAsset, PlannedPlay, Programme
from controller.domain.devices.service import mark_availability
from tests.support.console import WARD_A, sign_in
from tests.unit.console.test_console_schedule import MORNING, programme
from tests.unit.controller_support import Harness


def test_offsets_have_a_sign_only_when_they_are_not_zero() -> None:
    assert signed(-0.04, "vi") == "0,0" and signed(0.0, "vi") == "0,0"
    assert signed(-1.25, "vi") == "-1,2" and signed(0.3, "vi") == "+0,3"
    assert signed(-0.04, "en") == "0.0" and signed(2.0, "en") == "+2.0"


def test_rates_are_written_as_the_language_writes_them() -> None:
    assert rate(1.0, "vi") == "100,0\u00a0%" and rate(0.952, "en") == "95.2%"
    assert rate(None, "vi") == "—"


def _play(now_: object, item: str, **fields: object) -> PlannedPlay:
    values: dict[str, object] = {
        "device_id": "to-1", "item_id": item, "ward_code": WARD_A, "kind": "media",
        "source_level": "commune", "priority": "normal", "trigger": "scheduled",
        "planned_start": now_, "planned_duration_s": 60.0, "first_planned_at": now_,
        "bulletin_id": None, "session_key": None,
    }  # fmt: skip
    values.update(fields)
    return PlannedPlay(**values)


def test_todays_broadcast_shows_its_bulletins_title_and_links_its_id(
    client: TestClient, h: Harness
) -> None:
    now = h.clock.now()
    with h.runtime.db.session() as session:
        mark_availability(session, "to-1", True, now)
        device = session.get(Device, "to-1")
        assert device is not None
        device.clock_offset_s = -0.04  # a clock on time, read a hair behind
        session.add(
            MediaAsset(
                sha256="a" * 64, size_bytes=1, duration_s=60.0, content_type="audio/ogg",
                extension="ogg", created_at=now,
            )
        )  # fmt: skip
        session.add(
            Bulletin(
                id="bul-water", title="Lịch cắt nước ngày mai", origin="text",
                media_sha256="a" * 64, created_at=now,
            )
        )  # fmt: skip
        session.add(
            _play(
                now + timedelta(hours=1), "it-1", broadcast_id="bc-1265e4ccd6ac4c56",
                bulletin_id="bul-water",
            )
        )  # fmt: skip
    sign_in(client, "officer", [WARD_A])
    page = client.get("/").text
    assert "Lịch cắt nước ngày mai" in page
    assert '<a class="hint" href="/broadcasts/bc-1265e4ccd6ac4c56">' in page
    assert "0,0 giây" in page and "-0.0" not in page and "-0,0" not in page


def test_a_programme_session_is_listed_by_its_name(client: TestClient, h: Harness) -> None:
    now = h.clock.now()
    with h.runtime.db.session() as session:
        session.add(
            Programme(
                ward_code=WARD_A, version=1, updated_at=now, updated_by="admin",
                document=programme(MORNING).model_dump(mode="json"),
            )
        )  # fmt: skip
        key = f"{WARD_A}:sang:{now.date().isoformat()}"  # the compiler's ward:code:day
        session.add(_play(now + timedelta(hours=1), "it-s", broadcast_id="prog-x", session_key=key))
    sign_in(client, "officer", [WARD_A])
    page = client.get("/").text
    assert "Buổi sáng" in page and key not in page
    assert 'href="/broadcasts/prog-x"' not in page  # a session is no broadcast of its own
