"""A change of places reaches the devices' plans at once, not at the next standing
recompile (10 minutes by default): a loudspeaker moved to another ward is sent a plan
naming its new ward (whose channel its agent then listens to, whose programme it airs),
devices placed by an import get their plans, a ward's time zone or zones redrawn
recompile its devices. A refused change moves nobody's plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from controller.api.app import create_app
from controller.domain.places import service as places
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import Kind, Plan
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "p", "Province")
        places.upsert_district(session, "d", "p", "District")
        for ward in ("26734", "26737"):
            places.upsert_ward(session, ward, "d", f"Ward {ward}", "Asia/Ho_Chi_Minh")
            places.upsert_group(session, ward, "tdp-1", "Tổ dân phố 1")
        places.place_device(session, "to-1", "26734", "tdp-1")
        places.place_device(session, "to-2", "26734", None)
    assert harness.runtime.plans.recompile() == 2  # each device's first plan, naming its ward
    yield harness
    harness.runtime.stop()


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=h.runtime), headers=auth_headers(h.runtime)) as client:
        yield client


def _plans(h: Harness, device_id: str) -> list[Plan]:
    found = []
    for published in h.published(device_id, DeviceChannel.PLAN):
        plan = h.open(published.payload, Kind.PLAN).body
        assert isinstance(plan, Plan)
        found.append(plan)
    return found


def test_a_device_moved_to_another_ward_is_sent_its_new_plan_at_once(
    h: Harness, api: TestClient
) -> None:
    assert [p.ward_code for p in _plans(h, "to-1")] == ["26734"]
    moved = api.put("/api/v1/devices/to-1/placement", json={"ward_code": "26737"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["ward_code"] == "26737"
    after = _plans(h, "to-1")
    assert [(p.version, p.ward_code) for p in after] == [(1, "26734"), (2, "26737")]
    assert len(_plans(h, "to-2")) == 1  # not moved: not sent anything


def test_a_refused_placement_moves_no_plan(h: Harness, api: TestClient) -> None:
    refused = api.put("/api/v1/devices/to-1/placement", json={"ward_code": "99999"})
    assert refused.status_code in (404, 422), refused.text
    assert len(_plans(h, "to-1")) == 1
    with h.runtime.db.session() as session:
        assert places.devices_of(session, "26734")[0].id == "to-1"


def test_devices_placed_by_an_import_are_sent_plans_naming_their_ward(
    h: Harness, api: TestClient
) -> None:
    key = SigningKey.generate().public_key_b64
    rows = [
        "group_code,group_name,device_id,device_name,public_key,zones",
        f"tdp-2,Tổ dân phố 2,hb-01,Cụm loa TDP 2,{key},",
    ]
    imported = api.post(
        "/api/v1/places/import?ward=26737",
        content="\n".join(rows).encode(),
        headers={"content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    assert [(p.version, p.ward_code) for p in _plans(h, "hb-01")] == [(1, "26737")]


def test_a_wards_time_zone_or_zones_recompile_its_devices(
    h: Harness, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[set[str]] = []
    refresh = h.runtime.plans.compiler.refresh

    def counted(session: Session, device_ids: Iterable[str], now: datetime, **kw: Any) -> Any:
        calls.append(set(device_ids))
        return refresh(session, calls[-1], now, **kw)

    monkeypatch.setattr(h.runtime.plans.compiler, "refresh", counted)
    ward = {"district_code": "d", "name": "Ward 26734", "timezone": "Asia/Bangkok"}
    assert api.put("/api/v1/wards/26734", json=ward).status_code == 200
    zone = {"name": "Ven sông", "groups": ["tdp-1"]}
    assert api.put("/api/v1/wards/26734/zones/ven-song", json=zone).status_code == 200
    assert api.delete("/api/v1/wards/26734/zones/ven-song").status_code == 204
    assert calls == [{"to-1", "to-2"}] * 3
