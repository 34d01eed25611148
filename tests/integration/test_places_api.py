"""Places through the API: CRUD, YAML and CSV import, all or nothing, clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.settings import Settings
from tests.support.auth import auth_headers
from wardcast_protocol.fake_transport import FakeBroker
from wardcast_protocol.signing import SigningKey

pytestmark = pytest.mark.integration

KEY_A, KEY_B = SigningKey.generate().public_key_b64, SigningKey.generate().public_key_b64

WARD_YAML = f"""
province: {{code: "01", name: "Hà Nội"}}
district: {{code: "002", name: "Hoàn Kiếm"}}
ward: {{code: "00037", name: "Hàng Bạc", timezone: Asia/Ho_Chi_Minh}}
groups:
  - {{code: tdp-1, name: "Tổ dân phố 1"}}
  - {{code: tdp-2, name: "Tổ dân phố 2"}}
  - {{code: tdp-3, name: "Tổ dân phố 3"}}
zones:
  - {{code: ven-song, name: "Ven sông", groups: [tdp-1, tdp-2]}}
devices:
  - {{device_id: hb-01, name: "Cụm loa 1", public_key: "{KEY_A}", group: tdp-1}}
  - {{device_id: hb-03, name: "Cụm loa 3", public_key: "{KEY_B}", group: tdp-3}}
"""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    from controller.composition import ControllerRuntime

    settings = Settings(data_dir=tmp_path, environment="test")
    runtime = ControllerRuntime(settings, transport=FakeBroker().link("controller"))
    runtime.start()
    with TestClient(create_app(runtime=runtime)) as client:
        client.headers.update(auth_headers(runtime))  # places are an administrator's
        yield client
    runtime.stop()


def _import_yaml(api: TestClient, text: str) -> httpx.Response:
    # TestClient's methods are untyped here (starlette types them against httpx2): name the type.
    response: httpx.Response = api.post(
        "/api/v1/places/import", content=text.encode(), headers={"content-type": "application/yaml"}
    )
    return response


def test_a_yaml_import_creates_the_whole_ward(api: TestClient) -> None:
    done = _import_yaml(api, WARD_YAML)
    assert done.status_code == 200, done.text
    assert done.json() == {
        "ward_code": "00037",
        "groups": 3,
        "zones": 1,
        "devices_created": 2,
        "devices_known": 0,
    }
    ward = api.get("/api/v1/wards/00037").json()
    assert ward["name"] == "Hàng Bạc" and ward["timezone"] == "Asia/Ho_Chi_Minh"
    assert [g["code"] for g in ward["groups"]] == ["tdp-1", "tdp-2", "tdp-3"]
    assert ward["zones"] == [
        {"code": "ven-song", "name": "Ven sông", "group_codes": ["tdp-1", "tdp-2"]}
    ]
    assert ward["devices"] == ["hb-01", "hb-03"]
    device = api.get("/api/v1/devices/hb-03").json()
    assert (device["ward_code"], device["group_code"]) == ("00037", "tdp-3")
    again = _import_yaml(api, WARD_YAML).json()
    assert (again["devices_created"], again["devices_known"]) == (0, 2)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("groups: [tdp-1, tdp-2]", "groups: [tdp-1, tdp-9]"), "unknown groups ['tdp-9']"),
        (("group: tdp-3", "group: tdp-7"), "unknown group 'tdp-7'"),
        (("Asia/Ho_Chi_Minh", "Mars/Olympus"), "unknown time zone"),
        ((f'"{KEY_B}"', '"not-a-key"'), "not an Ed25519 public key"),
        # The neutral point: OpenSSL would take (R = it, S = 0) as its signature of anything.
        ((f'"{KEY_B}"', '"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="'), "small-order"),
        (("ward: {code:", "wardd: {code:"), "Field required"),
        (("- {code: tdp-1,", "- {code: [1, 2],"), "groups.0.code"),
    ],
)
def test_a_bad_import_stores_nothing_and_says_why(
    api: TestClient, change: tuple[str, str], words: str
) -> None:
    answer = _import_yaml(api, WARD_YAML.replace(*change))
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["detail"]
    assert api.get("/api/v1/wards").json() == []
    assert api.get("/api/v1/devices").json() == []


def test_not_yaml_at_all_is_a_clear_error(api: TestClient) -> None:
    answer = _import_yaml(api, "province: [unclosed")
    assert answer.status_code == 422 and "not valid YAML" in answer.json()["detail"]
    assert api.post("/api/v1/places/import", content=b"\xff\xfe").status_code == 422


def test_a_csv_import_adds_devices_groups_and_zones_to_a_ward(api: TestClient) -> None:
    assert _import_yaml(api, WARD_YAML).status_code == 200
    key = SigningKey.generate().public_key_b64
    csv = (
        "\ufeffgroup_code,group_name,device_id,device_name,public_key,zones\n"
        f"tdp-4,Tổ dân phố 4,hb-04,Cụm loa 4,{key},ven-song;cho\n"
    )
    answer = api.post(
        "/api/v1/places/import?ward=00037",
        content=csv.encode(),
        headers={"content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    ward = api.get("/api/v1/wards/00037").json()
    zones = {z["code"]: z["group_codes"] for z in ward["zones"]}
    assert zones == {"cho": ["tdp-4"], "ven-song": ["tdp-1", "tdp-2", "tdp-4"]}
    assert "hb-04" in ward["devices"]
    bad = "group_code,group_name,device_id,device_name,public_key\n,x,bad id,,k\n"
    refused = api.post(
        "/api/v1/places/import?ward=00037",
        content=bad.encode(),
        headers={"content-type": "text/csv"},
    )
    assert refused.status_code == 422 and "row 2" in refused.json()["detail"]


def test_crud_keeps_references_whole(api: TestClient) -> None:
    assert (
        api.put("/api/v1/districts/999", json={"province_code": "nope", "name": "x"}).status_code
        == 404
    )
    assert _import_yaml(api, WARD_YAML).status_code == 200
    in_use = api.delete("/api/v1/wards/00037/groups/tdp-1")
    assert in_use.status_code == 409 and "hb-01" in in_use.json()["detail"]
    assert api.put("/api/v1/wards/00037/groups/tdp-5", json={"name": "Tổ 5"}).status_code == 200
    assert api.delete("/api/v1/wards/00037/groups/tdp-5").status_code == 204
    moved = api.put(
        "/api/v1/devices/hb-01/placement", json={"ward_code": "00037", "group_code": "tdp-2"}
    )
    assert moved.json()["group_code"] == "tdp-2"
    wrong = api.put(
        "/api/v1/devices/hb-01/placement", json={"ward_code": "00037", "group_code": "zz"}
    )
    assert wrong.status_code == 422
    zone = api.put("/api/v1/wards/00037/zones/cho", json={"name": "Chợ", "groups": ["tdp-3"]})
    assert zone.json() == {"code": "cho", "name": "Chợ", "group_codes": ["tdp-3"]}
    assert (
        api.put(
            "/api/v1/wards/00037/zones/all", json={"name": "x", "groups": ["tdp-3"]}
        ).status_code
        == 422
    )
