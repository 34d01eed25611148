"""Accounts over HTTP: sign in, one's own tokens, and administrators managing accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.domain.places import service as places
from tests.support.auth import PASSWORD, auth_headers
from tests.unit.controller_support import Harness, make_harness

Headers = dict[str, str]


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "01", "Hà Nội")
        session.flush()
        places.upsert_district(session, "002", "01", "Hoàn Kiếm")
        session.flush()
        places.upsert_ward(session, "00037", "002", "Hàng Bạc", "Asia/Ho_Chi_Minh")
    yield harness
    harness.runtime.stop()


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=h.runtime)) as client:
        yield client


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def test_nothing_is_anonymous_and_a_refusal_says_how_to_sign_in(api: TestClient) -> None:
    refused = api.get("/api/v1/bulletins")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert "sign in" in refused.json()["detail"]
    assert api.get("/api/v1/bulletins", headers={"X-Wardcast-Actor": "admin"}).status_code == 401
    assert api.get("/api/v1/health").status_code == 200


def test_sign_in_then_act_with_the_token(api: TestClient, h: Harness) -> None:
    auth_headers(h.runtime, "officer", wards=["00037"])  # makes the account officer-00037
    wrong = {"username": "officer-00037", "password": "not-it-at-all"}
    assert api.post("/api/v1/auth/token", json=wrong).status_code == 401
    signed = api.post(
        "/api/v1/auth/token", json={"username": "officer-00037", "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["token_type"] == "bearer" and body["kind"] == "login"
    assert body["user"]["roles"] == ["officer"] and body["user"]["wards"] == ["00037"]
    me = api.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.json()["username"] == "officer-00037"


def test_personal_tokens_are_shown_once_listed_without_secret_and_revocable(
    api: TestClient, h: Harness
) -> None:
    me = auth_headers(h.runtime, "evaluator", wards=["00037"])
    made = api.post("/api/v1/me/tokens", json={"name": "báo cáo tuần", "expires_in_days": 30})
    assert made.status_code == 401
    made = api.post(
        "/api/v1/me/tokens", json={"name": "báo cáo tuần", "expires_in_days": 30}, headers=me
    )
    assert made.status_code == 201, made.text
    secret, token_id = made.json()["token"], made.json()["id"]
    listed = api.get("/api/v1/me/tokens", headers=me).json()
    assert token_id in {t["id"] for t in listed}
    assert secret not in str(listed) and all("token" not in t for t in listed)
    report = api.get("/api/v1/reports?ward=00037&period=day:2026-11-22", headers=bearer(secret))
    assert report.status_code == 200, report.text
    gone = api.delete(f"/api/v1/me/tokens/{token_id}", headers=bearer(secret))
    assert gone.status_code == 204
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    too_long = api.post("/api/v1/me/tokens", json={"name": "x", "expires_in_days": 400}, headers=me)
    assert too_long.status_code == 422


def test_administrators_manage_accounts(api: TestClient, h: Harness) -> None:
    admin = auth_headers(h.runtime)
    new = {
        "username": "chu-tich",
        "password": "mat-khau-chu-tich",
        "display_name": "Chủ tịch UBND phường",
        "roles": ["approver"],
        "districts": ["002"],
    }
    officer = auth_headers(h.runtime, "officer", wards=["00037"])
    assert api.post("/api/v1/users", json=new, headers=officer).status_code == 403
    made = api.post("/api/v1/users", json=new, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["districts"] == ["002"] and "password" not in made.text
    assert api.post("/api/v1/users", json=new, headers=admin).status_code == 409
    changed = api.patch(
        "/api/v1/users/chu-tich",
        json={"roles": ["approver", "evaluator"], "wards": ["00037"], "districts": []},
        headers=admin,
    )
    assert changed.json()["roles"] == ["approver", "evaluator"]
    assert (changed.json()["wards"], changed.json()["districts"]) == (["00037"], [])
    login = {"username": "chu-tich", "password": "mat-khau-chu-tich"}
    token = api.post("/api/v1/auth/token", json=login).json()
    listed = api.get("/api/v1/users/chu-tich/tokens", headers=admin).json()
    assert [t["id"] for t in listed] == [token["id"]]
    reset = api.put(
        "/api/v1/users/chu-tich/password", json={"password": "mat-khau-moi-1"}, headers=admin
    )
    assert reset.status_code == 204
    assert api.get("/api/v1/me", headers=bearer(token["token"])).status_code == 401
    assert api.post("/api/v1/auth/token", json=login).status_code == 401
    usernames = [u["username"] for u in api.get("/api/v1/users", headers=admin).json()]
    assert {"admin", "chu-tich", "officer-00037"} <= set(usernames)
