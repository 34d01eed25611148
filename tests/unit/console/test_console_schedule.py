"""The schedule page: a ward's week, queueing into a session, one-off broadcasts and cancel.

The clock stands on Tuesday 1 December 2026, 08:00 in Hà Nội (01:00 UTC).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from controller.db.models import Broadcast, Programme, QueuedBulletin
from controller.domain.actors import EVERYONE, Actor
from controller.domain.places import service as places
from controller.domain.programmes.schema import ProgrammeDoc
from tests.support.console import WARD_A, add_two_wards, csrf_of, sign_in
from tests.unit.controller_support import Harness, make_harness

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
ADMIN = Actor("admin", EVERYONE)


def session_def(code: str, name: str, rrule: str, start: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "zones": ["all"],
        "rrule": rrule,
        "start": start,
        "rundown": [
            {"kind": "chime", "which": "opening"},
            {"kind": "bulletins", "max_minutes": 10},
            {"kind": "chime", "which": "closing"},
        ],
    }


def programme(*sessions: dict[str, Any]) -> ProgrammeDoc:
    return ProgrammeDoc.model_validate(
        {
            "ward": WARD_A,
            "name": "Chương trình Hàng Bạc",
            "timezone": "Asia/Ho_Chi_Minh",
            "rules": {"max_session_minutes": 15},
            "sessions": list(sessions),
        }
    )


MORNING = session_def("sang", "Buổi sáng", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "06:30")
EVENING = session_def("chieu", "Buổi chiều", "FREQ=DAILY", "17:00")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path, start=NOW)
    add_two_wards(harness.runtime)
    with harness.runtime.db.session() as session:
        places.upsert_zone(session, WARD_A, "ven-song", "Ven sông", ["to-1"])
    yield harness
    harness.runtime.stop()


def with_programme(h: Harness) -> None:
    h.runtime.programmes.save(WARD_A, programme(MORNING, EVENING), ADMIN)


def day_block(html: str, day: str) -> str:
    found = re.search(rf'id="day-{day}">(.*?)</li>\s*(?:<li class="day|</ol>)', html, re.S)
    assert found is not None, day
    return found.group(1)


def test_evaluators_never_reach_the_schedule_and_approvers_only_read_it(
    client: TestClient, h: Harness
) -> None:
    with_programme(h)
    sign_in(client, "evaluator", [WARD_A])
    token = csrf_of(client.get("/").text)
    assert client.get("/schedule").status_code == 403
    for path in ("/schedule/queue", "/schedule/broadcast", "/schedule/broadcasts/x/cancel"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path

    client.cookies.clear()
    sign_in(client, "approver", [WARD_A])
    page = client.get("/schedule")
    assert page.status_code == 200 and "Buổi sáng" in page.text
    assert 'id="queue-form"' not in page.text and 'id="broadcast-form"' not in page.text
    token = csrf_of(page.text)
    assert client.post("/schedule/queue", data={"csrf_token": token}).status_code == 403


def test_the_week_shows_sessions_on_the_wards_days_with_their_rundown(
    client: TestClient, h: Harness
) -> None:
    with_programme(h)
    sign_in(client, "officer", [WARD_A])
    page = client.get("/schedule").text
    assert "Tuần từ 30/11/2026 đến 06/12/2026" in page
    monday = day_block(page, "2026-11-30")
    assert "Thứ Hai" in monday and "06:30" in monday and "17:00" in monday
    assert "Nhạc hiệu mở đầu" in monday and "tối đa 10 phút" in monday
    sunday = day_block(page, "2026-12-06")
    assert "Buổi chiều" in sunday and "Buổi sáng" not in sunday  # weekdays only
    assert 'class="day today" id="day-2026-12-01"' in page
    later = client.get("/schedule?week=2026-12-09").text
    assert "Tuần từ 07/12/2026 đến 13/12/2026" in later


def test_queueing_refuses_a_past_day_keeps_the_form_then_queues(
    client: TestClient, h: Harness
) -> None:
    with_programme(h)
    sign_in(client, "officer", [WARD_A])
    token = csrf_of(client.get("/schedule").text)
    form = {"csrf_token": token, "ward": WARD_A, "week": "2026-11-30", "q_session": "sang"}
    past = client.post(
        "/schedule/queue",
        data={**form, "q_bulletin": "bul-1", "q_first": "2026-11-30", "q_last": "2026-12-02"},
    )
    assert past.status_code == 422
    assert 'id="e-q_first"' in past.text and "hôm nay là 01/12/2026" in past.text
    assert 'value="2026-12-02"' in past.text  # the last day as typed
    assert '<option value="sang" selected>' in past.text
    missing = client.post("/schedule/queue", data={**form, "q_first": "2026-12-01"})
    assert missing.status_code == 422 and 'id="e-q_bulletin"' in missing.text
    done = client.post(
        "/schedule/queue",
        data={**form, "q_bulletin": "bul-1", "q_first": "2026-12-02", "q_last": "2026-12-03"},
    )
    assert done.status_code == 303, done.text
    page = client.get(done.headers["location"]).text
    assert "Đã xếp bản tin vào buổi phát." in page
    assert "Thông báo" in day_block(page, "2026-12-02")
    assert "Thông báo" not in day_block(page, "2026-12-01")
    with h.runtime.db.session() as session:
        entry = session.query(QueuedBulletin).one()
        entry_id = entry.id
    removed = client.post(
        f"/schedule/queue/{entry_id}/remove",
        data={"csrf_token": token, "ward": WARD_A, "week": "2026-11-30"},
    )
    assert removed.status_code == 303
    with h.runtime.db.session() as session:
        assert session.query(QueuedBulletin).count() == 0


def test_a_one_off_to_a_zone_at_the_wards_time_and_its_cancel(
    client: TestClient, h: Harness
) -> None:
    sign_in(client, "officer", [WARD_A])
    page = client.get("/schedule").text
    assert "chưa có chương trình" in page  # one-offs still possible
    token = csrf_of(page)
    form = {"csrf_token": token, "ward": WARD_A, "week": "2026-11-30", "b_bulletin": "bul-1"}
    past = client.post(
        "/schedule/broadcast", data={**form, "b_where": "zones", "b_start": "2026-12-01T07:00"}
    )
    assert past.status_code == 422
    assert 'id="e-b_start"' in past.text and "đã qua" in past.text
    assert 'href="#broadcast-form"' in past.text  # the summary leads there
    assert 'id="e-b_zones"' in past.text  # zones chosen, but none ticked
    assert 'value="2026-12-01T07:00"' in past.text
    assert 'id="f-b_where-zones" name="b_where" value="zones" checked' in past.text
    made = client.post(
        "/schedule/broadcast",
        data={**form, "b_where": "zones", "b_zones": "ven-song", "b_start": "2026-12-02T09:15"},
    )
    assert made.status_code == 303, made.text
    with h.runtime.db.session() as session:
        broadcast = session.query(Broadcast).one()
        broadcast_id = broadcast.id
        # 09:15 in Hà Nội is 02:15 UTC; only the zone's device
        assert broadcast.planned_start.replace(tzinfo=UTC) == datetime(
            2026, 12, 2, 2, 15, tzinfo=UTC
        )
        assert [t.device_id for t in broadcast.targets] == ["to-1"]
    wednesday = day_block(client.get(made.headers["location"]).text, "2026-12-02")
    assert "09:15" in wednesday and "Khu vực: ven-song" in wednesday
    assert f'id="cancel-{broadcast_id}"' in wednesday
    cancelled = client.post(
        f"/schedule/broadcasts/{broadcast_id}/cancel",
        data={"csrf_token": token, "ward": WARD_A, "week": "2026-11-30", "reason": "Mưa lớn"},
    )
    assert cancelled.status_code == 303
    after = day_block(client.get(cancelled.headers["location"]).text, "2026-12-02")
    assert "Đã hủy" in after and f'id="cancel-{broadcast_id}"' not in after
    again = client.post(
        f"/schedule/broadcasts/{broadcast_id}/cancel",
        data={"csrf_token": token, "ward": WARD_A, "week": "2026-11-30"},
    )
    assert again.status_code == 409 and 'class="form-error"' in again.text


def test_conflicts_of_the_stored_programme_are_shown(client: TestClient, h: Harness) -> None:
    clash = session_def("trua", "Buổi trưa", "FREQ=DAILY", "17:05")
    with h.runtime.db.session() as session:
        session.add(
            Programme(
                ward_code=WARD_A,
                version=1,
                document=programme(EVENING, clash).model_dump(mode="json"),
                updated_at=NOW,
                updated_by="admin",
            )
        )
    sign_in(client, "officer", [WARD_A])
    page = client.get("/schedule").text
    assert "Chương trình có" in page and "xung đột" in page


def test_a_broadcast_form_posted_after_expiry_comes_back_to_its_week(
    client: TestClient, h: Harness
) -> None:
    sign_in(client, "officer", [WARD_A])
    token = csrf_of(client.get("/schedule").text)
    asyncio.run(h.clock.advance(9 * 3600))  # past the 8 h sign-in token
    posted = client.post(
        "/schedule/broadcast",
        data={
            "csrf_token": token,
            "ward": WARD_A,
            "week": "2026-11-30",
            "b_bulletin": "bul-1",
            "b_where": "groups",
            "b_groups": "to-1",
            "b_start": "2026-12-03T18:45",
        },
    )
    target = unquote(posted.headers["location"].split("next=")[1].split("&")[0])
    assert target.startswith("/schedule/broadcast?kept=")
    sign_in(client, "officer", [WARD_A], next_path=target)
    page = client.get(target).text
    assert 'value="2026-12-03T18:45"' in page
    assert 'id="f-b_where-groups" name="b_where" value="groups" checked' in page
    assert 'value="to-1"\n      checked' in page or 'value="to-1" checked' in page
    with h.runtime.db.session() as session:
        assert session.query(Broadcast).count() == 0  # nothing scheduled behind their back
