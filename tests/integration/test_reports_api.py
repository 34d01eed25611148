"""Reports end to end on SQLite and PostgreSQL: a small ward with answers known by hand.

Ward 00037, two groups with one device each, one morning session a day for three
days (chime, 15 min of VOV, a health bulletin; on the 19th also a security
bulletin). Device d1 plays everything on time. Device d2 plays the 18th, is
offline on the 19th (four plays missed), and starts the relay 9 s late on the 20th.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.api.routes import reports as reports_routes
from controller.composition import ControllerRuntime
from controller.db.models import (
    Device,
    District,
    PlannedPlay,
    PlaybackEvidence,
    Programme,
    Province,
    ResidentialGroup,
    Ward,
)
from controller.settings import Settings
from tests.support.auth import auth_headers
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
PERIOD = "2026-11-18..2026-11-20"
DAYS = (18, 19, 20)
# (item, duration s, kind, source level, category, bulletin)
ITEMS = (
    ("chime", 5.0, "media", "commune", "chime", None),
    ("vov", 900.0, "relay", "central", "relay", None),
    ("y-te", 60.0, "media", "commune", "Y tế", "bul-1"),
)


def target(
    code: str, description: str, kind: str, minimum: float, level: str | None = None
) -> dict[str, str | float]:
    found: dict[str, str | float] = {
        "code": code,
        "description": description,
        "kind": kind,
        "minimum": minimum,
    }
    return found | ({"source_level": level} if level else {})


EXTRA_ON_19TH = ("an-ninh", 60.0, "media", "commune", "An ninh trật tự", "bul-2")
PROGRAMME = {
    "ward": "00037",
    "name": "Chương trình phát thanh phường Phúc Xá",
    "timezone": "Asia/Ho_Chi_Minh",
    "sessions": [
        {
            "code": "sang",
            "name": "Buổi sáng",
            "rrule": "FREQ=DAILY",
            "start": "05:30",
            "rundown": [
                {"kind": "chime", "which": "opening"},
                {
                    "kind": "relay",
                    "station": "VOV1",
                    "source_level": "central",
                    "url": "http://stream.vov.vn/vov1",
                    "minutes": 15,
                },
                {"kind": "bulletins"},
            ],
        }
    ],
    "targets": [
        target("mot-buoi", "Ít nhất 1 buổi mỗi ngày", "sessions_per_day", 1),
        target("hai-buoi", "Ít nhất 2 buổi mỗi ngày", "sessions_per_day", 2),
        target("vov", "Tiếp sóng VOV 14 phút mỗi ngày", "relay_daily", 14, "central"),
        target("nam-ngay", "Phát 5 ngày mỗi tuần", "days_per_week", 5),
    ],
}


@dataclass
class Site:
    client: TestClient
    runtime: ControllerRuntime
    clock: FakeClock


def session_start(day: int) -> datetime:
    """05:30 in Hà Nội on November ``day``, in UTC."""
    return datetime(2026, 11, day, 5, 30, tzinfo=UTC) - timedelta(hours=7)


def evidence(
    device: PlannedPlay, seq: int, late_s: float = 0.5, received: datetime | None = None
) -> PlaybackEvidence:
    start = device.planned_start
    return PlaybackEvidence(
        device_id=device.device_id,
        ward_code=device.ward_code,
        group_code=device.group_code,
        event_id=f"ev-{device.device_id}-{seq}",
        seq=seq,
        prev_hash="",
        digest=f"{seq:064x}",
        item_id=device.item_id,
        broadcast_id=device.broadcast_id,
        bulletin_id=device.bulletin_id,
        trigger="programme",
        priority="normal",
        source_level=device.source_level,
        planned_start=start,
        planned_duration_s=device.planned_duration_s,
        actual_start=start + timedelta(seconds=late_s),
        played_duration_s=device.planned_duration_s,
        outcome="completed",
        session_key=device.session_key,
        relayed_s=device.planned_duration_s if device.kind == "relay" else None,
        recorded_at=start + timedelta(seconds=device.planned_duration_s),
        received_at=received or start + timedelta(minutes=20),
        signed="{}",
        sig="test",
    )


def seed(runtime: ControllerRuntime) -> None:
    with runtime.db.session() as session:
        session.add(Province(code="01", name="Hà Nội"))
        session.flush()
        session.add(District(code="001", province_code="01", name="Ba Đình"))
        session.flush()
        session.add(
            Ward(code="00037", district_code="001", name="Phúc Xá", timezone="Asia/Ho_Chi_Minh")
        )
        session.flush()
        session.add(Programme(ward_code="00037", document=PROGRAMME, updated_at=NOW))
        for n in (1, 2):
            session.add(
                ResidentialGroup(id=f"g{n}", ward_code="00037", code=f"to-{n}", name=f"Tổ {n}")
            )
            session.add(
                Device(
                    id=f"d{n}", name=f"Cụm loa tổ {n}", ward_code="00037", group_code=f"to-{n}",
                    public_key="k", registered_at=NOW - timedelta(days=30), online=n == 1,
                    last_seen_at=NOW - timedelta(hours=n),
                )
            )  # fmt: skip
        session.flush()
        seqs = {"d1": 0, "d2": 0}
        for day in DAYS:
            items = ITEMS + ((EXTRA_ON_19TH,) if day == 19 else ())
            at = session_start(day)
            for device, group in (("d1", "to-1"), ("d2", "to-2")):
                offset = 0.0
                for name, duration, kind, level, category, bulletin in items:
                    play = PlannedPlay(
                        device_id=device, item_id=f"{day}-{name}", ward_code="00037",
                        group_code=group, broadcast_id="prog-00037-sang", bulletin_id=bulletin,
                        session_key=f"00037:sang:2026-11-{day}", kind=kind, category=category,
                        source_level=level, priority="normal", trigger="programme",
                        planned_start=at + timedelta(seconds=offset), planned_duration_s=duration,
                        first_planned_at=at - timedelta(days=1),
                    )  # fmt: skip
                    offset += duration + 1
                    session.add(play)
                    if device == "d2" and day == 19:
                        continue  # offline all morning: missed
                    seqs[device] += 1
                    late = 9.0 if (device, day, name) == ("d2", 20, "vov") else 0.5
                    session.add(evidence(play, seqs[device], late))
        session.add(
            PlannedPlay(
                device_id="d1", item_id="18-withdrawn", ward_code="00037", group_code="to-1",
                broadcast_id="bc-1", bulletin_id="bul-1", session_key=None, kind="media",
                category="Y tế", source_level="commune", priority="normal", trigger="manual",
                planned_start=session_start(18) + timedelta(hours=3), planned_duration_s=60,
                first_planned_at=session_start(17), withdrawn_at=session_start(18),
            )
        )  # fmt: skip


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[Site]:
    clock = FakeClock(NOW)
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, environment="test", gtts_enabled=False
    )
    runtime = ControllerRuntime(
        settings,
        clock=clock,
        transport=FakeBroker().link("controller"),
        run_maintenance=False,
        prepare_chime=False,
    )
    runtime.start()
    seed(runtime)
    app = create_app(runtime=runtime)
    if not any(getattr(r, "path", "") == "/api/v1/reports" for r in app.routes):
        app.include_router(reports_routes.router)  # until app.py mounts it
    with TestClient(app) as client:
        # An inspector who reads every ward's figures (and changes nothing).
        client.headers.update(auth_headers(runtime, "evaluator", all_wards=True))
        yield Site(client, runtime, clock)
    runtime.stop()


def get(site: Site, path: str = "/api/v1/reports", **params: str) -> httpx.Response:
    # TestClient's methods are untyped here (starlette types them against httpx2): name the type.
    response: httpx.Response = site.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


def test_ward_report_has_the_known_answers(site: Site) -> None:
    report = get(site, ward="00037", period=PERIOD, lang="en").json()
    plays = report["plays"]
    assert {k: plays[k] for k in ("planned", "withdrawn", "confirmed", "played", "missed")} == {
        "planned": 20, "withdrawn": 1, "confirmed": 16, "played": 16, "missed": 4,
    }  # fmt: skip
    assert (plays["pending"], plays["on_time"], plays["timed"]) == (0, 15, 16)
    assert plays["on_time_rate"] == 0.9375
    assert report["sessions"] == {
        "planned": 3, "played": 3, "played_rate": 1.0,
        "device_sessions_planned": 6, "device_sessions_played": 5,
    }  # fmt: skip
    central = next(s for s in report["sources"] if s["source_level"] == "central")
    assert (central["planned_relay_h"], central["relayed_h"]) == (1.5, 1.25)
    categories = {c["category"]: c for c in report["categories"]}
    assert categories["Y tế"] == {
        "category": "Y tế", "bulletins": 1, "plays_planned": 6, "plays_played": 5,
        "plays_missed": 1,
    }  # fmt: skip
    assert categories["An ninh trật tự"]["plays_missed"] == 1
    coverage = {c["bulletin_id"]: c for c in report["coverage"]}
    assert (coverage["bul-1"]["targeted_groups"], coverage["bul-1"]["covered_groups"]) == (2, 2)
    assert coverage["bul-2"]["share"] == 0.5
    assert coverage["bul-2"]["uncovered"] == ["to-2"]
    assert report["coverage"][0]["bulletin_id"] == "bul-2"  # least covered first
    devices = {d["device_id"]: d for d in report["devices"]}
    assert devices["d1"]["availability"] == 1.0
    assert (devices["d2"]["availability"], devices["d2"]["missed"]) == (0.6, 4)
    assert (devices["d2"]["sessions_planned"], devices["d2"]["sessions_played"]) == (3, 2)
    day19 = next(d for d in report["days"] if d["date"] == "2026-11-19")
    assert (day19["plays_planned"], day19["plays_missed"], day19["relay_minutes"]) == (
        8, 4, {"central": 15.0},
    )  # fmt: skip
    verdicts = {t["code"]: t for t in report["compliance"]}
    assert {code: t["passed"] for code, t in verdicts.items()} == {
        "mot-buoi": True, "hai-buoi": False, "vov": True, "nam-ngay": True,
    }  # fmt: skip
    assert verdicts["hai-buoi"]["failing"] == [
        "2026-11-18: 1", "2026-11-19: 1", "2026-11-20: 1",
    ]  # fmt: skip
    assert (verdicts["nam-ngay"]["judged"], verdicts["nam-ngay"]["met"]) == (1, 1)
    # The programme was first planned on the 17th at 05:30: in force from the 18th.
    assert {t["in_force_from"] for t in report["compliance"]} == {"2026-11-18"}
    assert [t["status"] for t in report["compliance"]] == ["passed", "failed", "passed", "passed"]


def test_group_device_and_province_scopes(site: Site) -> None:
    group = get(site, ward="00037", group="to-2", period=PERIOD).json()
    assert (group["plays"]["planned"], group["plays"]["missed"]) == (10, 4)
    assert (group["sessions"]["planned"], group["sessions"]["played"]) == (3, 2)
    assert [d["device_id"] for d in group["devices"]] == ["d2"]
    device = get(site, device="d2", period=PERIOD).json()
    assert device["scope"]["kind"] == "device"
    assert device["plays"]["confirmed_rate"] == 0.6
    assert device["compliance"][0]["passed"] is False  # one day of three without a session
    province = get(site, province="01", period=PERIOD).json()
    assert province["plays"]["missed"] == 4
    assert province["coverage"] == []  # per ward instead
    [ward] = province["wards"]
    assert (ward["ward_code"], ward["devices"], ward["coverage_share"]) == ("00037", 2, 0.75)
    assert (ward["targets_passed"], ward["targets_failed"]) == (3, 1)


def test_missed_plays_are_listed_and_late_evidence_is_counted(site: Site) -> None:
    missed = get(site, "/api/v1/evidence/missed", ward="00037", period=PERIOD).json()
    assert missed["total"] == 4
    assert {(m["device_id"], m["item_id"]) for m in missed["items"]} == {
        ("d2", "19-chime"), ("d2", "19-vov"), ("d2", "19-y-te"), ("d2", "19-an-ninh"),
    }  # fmt: skip
    assert missed["items"][0]["planned_start"].startswith("2026-11-18T22:30")
    # d2 comes back and delivers the security bulletin it played offline.
    with site.runtime.db.session() as session:
        play = session.get(PlannedPlay, _planned_id(site, "d2", "19-an-ninh"))
        assert play is not None
        session.add(evidence(play, 99, received=NOW + timedelta(minutes=1)))
    asyncio.run(site.clock.advance(300))
    report = get(site, ward="00037", period=PERIOD).json()
    assert (report["plays"]["missed"], report["plays"]["confirmed"]) == (3, 17)
    coverage = {c["bulletin_id"]: c for c in report["coverage"]}
    assert coverage["bul-2"]["covered_groups"] == 2
    missed = get(site, "/api/v1/evidence/missed", ward="00037", period=PERIOD).json()
    assert missed["total"] == 3


def _planned_id(site: Site, device: str, item: str) -> int:
    from sqlalchemy import select

    with site.runtime.db.session() as session:
        found = session.scalar(
            select(PlannedPlay.id).where(
                PlannedPlay.device_id == device, PlannedPlay.item_id == item
            )
        )
        assert found is not None
        return found


def test_csv_zip_xlsx_and_pdf_downloads(site: Site) -> None:
    csv = get(site, ward="00037", period=PERIOD, format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert (
        'filename="wardcast-report-00037-2026-11-18..2026-11-20-summary.csv"'
        in csv.headers["content-disposition"]
    )
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert "Phúc Xá" in csv.content.decode("utf-8-sig")
    days = get(site, ward="00037", period=PERIOD, format="csv", table="days", sep="comma")
    lines = days.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Ngày,Chương trình áp dụng,")
    assert lines[2].startswith("19/11/2026,Có,1,1,8,4,4,")
    archive = get(site, ward="00037", period=PERIOD, format="zip")
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as tables:
        assert len(tables.namelist()) == 8  # every table but the per-ward one
    pytest.importorskip("openpyxl")
    xlsx = get(site, ward="00037", period=PERIOD, format="xlsx", lang="en")
    assert xlsx.content.startswith(b"PK")  # a zip of sheets
    assert (
        'filename="wardcast-report-00037-2026-11-18..2026-11-20.xlsx"'
        in (xlsx.headers["content-disposition"])
    )
    pytest.importorskip("fpdf")
    pdf = get(site, ward="00037", period="week:2026-W47", format="pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    province_csv = get(site, province="01", period=PERIOD, format="csv", table="wards").content
    assert "Mã phường/xã;Tên" in province_csv.decode("utf-8-sig")
    assert "00037;Phúc Xá;2" in province_csv.decode("utf-8-sig")
    assert get(site, province="01", period=PERIOD, format="pdf").content.startswith(b"%PDF")


def test_days_before_the_programme_applied_are_not_judged(site: Site) -> None:
    """Before the 18th the ward had no programme: no verdict, and no failure, for those days."""
    report = get(site, ward="00037", period="2026-11-10..2026-11-20", lang="en").json()
    verdicts = {t["code"]: t for t in report["compliance"]}
    assert (verdicts["mot-buoi"]["status"], verdicts["mot-buoi"]["judged"]) == ("passed", 3)
    assert verdicts["mot-buoi"]["not_applicable"] == 8
    assert verdicts["mot-buoi"]["figure"].endswith("; 8 days before 2026-11-18 not applicable")
    assert [d["in_force"] for d in report["days"]] == [False] * 8 + [True] * 3
    before = get(site, ward="00037", period="2026-11-01..2026-11-10").json()
    assert {t["status"] for t in before["compliance"]} == {"not_applicable"}
    assert before["sessions"]["planned"] == 0  # and the verdict does not say otherwise
    assert any("chưa áp dụng" in note for note in before["notes"])


def test_a_cancelled_emergency_that_sounded_covers_its_groups(site: Site) -> None:
    """Stopped by a Cancel after 20 s on air, the play is partial: it was heard."""
    with site.runtime.db.session() as session:
        for n, device in enumerate(("d1", "d2")):
            play = PlannedPlay(
                device_id=device, item_id="20-khan-cap", ward_code="00037",
                group_code=f"to-{n + 1}", broadcast_id="em-1", bulletin_id="bul-em",
                session_key=None, kind="media", category="emergency", source_level="commune",
                priority="emergency", trigger="emergency",
                planned_start=session_start(20) + timedelta(hours=4), planned_duration_s=90,
                first_planned_at=session_start(20) + timedelta(hours=4),
            )  # fmt: skip
            session.add(play)
            heard = evidence(play, 70 + n)
            heard.outcome, heard.played_duration_s = "partial", 20.0
            session.add(heard)
    report = get(site, ward="00037", period=PERIOD).json()
    coverage = {c["bulletin_id"]: c for c in report["coverage"]}
    assert (coverage["bul-em"]["covered_groups"], coverage["bul-em"]["targeted_groups"]) == (2, 2)
    assert coverage["bul-em"]["uncovered"] == []
    province = get(site, province="01", period=PERIOD).json()
    # bul-1: 6 of 6 group-days but the 19th on to-2; bul-2: 1 of 2; the emergency: 2 of 2.
    assert province["wards"][0]["coverage_share"] == 0.8


def test_a_period_not_over_is_pending_and_unjudged(site: Site) -> None:
    report = get(site, ward="00037", period="day:2026-11-22").json()
    assert report["plays"]["planned"] == 0
    assert {t["passed"] for t in report["compliance"]} == {None}


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"ward": "99999", "period": PERIOD}, 404, "no ward '99999'"),
        ({"ward": "00037", "group": "to-9", "period": PERIOD}, 404, "no residential group"),
        ({"device": "nope", "period": PERIOD}, 404, "no device"),
        ({"province": "77", "period": PERIOD}, 404, "no province"),
        ({"ward": "00037", "period": "2026-11-20..2026-11-18"}, 422, "ends before it starts"),
        ({"ward": "00037", "period": "month:2026-13"}, 422, "months are 01 to 12"),
        ({"group": "to-1", "period": PERIOD}, 422, "give the ward too"),
        ({"ward": "00037", "province": "01", "period": PERIOD}, 422, "name one scope"),
        ({"period": PERIOD}, 422, "name what to report on"),
    ],
)
def test_bad_requests_are_refused_clearly(
    site: Site, params: dict[str, str], status: int, says: str
) -> None:
    response = site.client.get("/api/v1/reports", params=params)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]


def test_backfill_sums_the_past_once(site: Site) -> None:
    from controller.domain.reports.rollups import RollupRules, backfill

    with site.runtime.db.session() as session:
        first = sum(backfill(session, NOW, RollupRules(), chunk_days=2))
    with site.runtime.db.session() as session:
        again = sum(backfill(session, NOW, RollupRules(), chunk_days=2))
    assert (first, again) == (3, 0)  # the 18th to the 20th, once
    report = get(site, ward="00037", period=PERIOD).json()
    assert report["plays"]["missed"] == 4
