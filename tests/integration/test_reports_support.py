"""The reports' ward (no tests here): a small ward with answers known by hand.

Ward 00037, two groups with one device each, one morning session a day for three
days (chime, 15 min of VOV, a health bulletin; on the 19th also a security
bulletin). Device d1 plays everything on time. Device d2 plays the 18th, is
offline on the 19th (four plays missed), and starts the relay 9 s late on the 20th.

``seed`` writes that ward into a runtime's database; ``site`` is the fixture that serves
it on SQLite and PostgreSQL (import it and name it in ``__all__`` so pytest sees it);
``get`` asks for a report and insists on a 200. Moved as is from ``test_reports_api.py``
when its tests were split into figures and requests; ``test_reports_cli.py`` seeds the
same ward.
"""

from __future__ import annotations

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
