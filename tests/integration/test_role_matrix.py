"""The role matrix: every route × every identity, and the table says who may succeed.

Generated from the app's own routes (``iter_route_contexts(app.routes)``): a route with
no row in ``MATRIX`` fails the first test, and so does a row whose route is gone — so a
new route cannot ship without a rule. Each row names the roles that may call the route
(administrators pass every gate), how the route treats scope, and a realistic call:
real ids of ward A's things and valid bodies, so that a success would be *possible* if a
check were missing, and a 404 or a 422 cannot hide one.

- nobody signed in gets 401 from every route but the public ones and signed media;
- a role the row does not name gets 403, before anything is looked up;
- ward B's actor (officer, approver and evaluator at once) gets 403 from every route on
  ward A's things, and from lists sees nothing of ward A;
- every role the row names gets past the door (neither 401 nor 403).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.domain.programmes.yaml_io import load_programme
from tests.support.two_wards import (
    PROGRAMME,
    SPARE_PASSWORD,
    SPARE_USER,
    WARD_A,
    TwoWards,
    build,
)
from wardcast_protocol.signing import SigningKey

pytestmark = pytest.mark.integration

ADMINS = frozenset({"admin"})
OFFICERS = frozenset({"admin", "officer"})
APPROVERS = frozenset({"admin", "approver"})
STAFF = frozenset({"admin", "officer", "approver"})
EVERY_ROLE = frozenset({"admin", "officer", "approver", "evaluator"})
SCOPED_ROLES = ("officer", "approver", "evaluator")


@dataclass(frozen=True)
class Call:
    """One request: a path with real ids, and a body the route would accept."""

    path: str
    params: dict[str, str] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None


@dataclass(frozen=True)
class Rule:
    """Who may call a route, and how it treats ward scope.

    ``scope``: ``ward`` — it names ward A's things, so ward B's actor is refused (403);
    ``own`` — a list (or one's own account): ward B's actor may call it, and sees
    nothing of ward A; ``public`` — no token asked; ``signed`` — a signed link instead.
    """

    roles: frozenset[str]
    call: Callable[[TwoWards], Call]
    scope: str = "ward"


def _day(w: TwoWards) -> str:
    return f"day:{w.today.isoformat()}"


def _period(w: TwoWards) -> dict[str, str]:
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}


def _programme(w: TwoWards) -> dict[str, Any]:
    doc = load_programme(PROGRAMME.read_text(encoding="utf-8"))
    return {"document": doc.model_dump(mode="json")}


def _emergency(w: TwoWards) -> dict[str, Any]:
    return {
        "identifier": "drill-1",
        "sender": "ubnd@phuong.gov.vn",
        "sent": datetime.now(UTC).isoformat(),
        "status": "Test",  # recorded, never sounded
        "description": "Diễn tập.",
        "ward_code": WARD_A,
    }


def _key() -> str:
    return SigningKey.generate().public_key_b64


V1 = "/api/v1"
MATRIX: dict[tuple[str, str], Rule] = {
    # The doors that need no account.
    ("GET", f"{V1}/health"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/health"), "public"),
    ("GET", f"{V1}/system/controller-key"): Rule(
        EVERY_ROLE, lambda w: Call(f"{V1}/system/controller-key"), "public"
    ),
    ("POST", f"{V1}/auth/token"): Rule(
        EVERY_ROLE,
        lambda w: Call(
            f"{V1}/auth/token", json={"username": SPARE_USER, "password": SPARE_PASSWORD}
        ),
        "public",
    ),
    ("POST", f"{V1}/enrolment"): Rule(
        EVERY_ROLE,
        lambda w: Call(
            f"{V1}/enrolment",
            json={"device_id": w.spare_device, "code": "ABCD-EFGH-JKLM", "public_key": _key()},
        ),
        "public",
    ),
    ("GET", "/media/{name}"): Rule(
        EVERY_ROLE, lambda w: Call(f"/media/{w.media_sha256}.ogg"), "signed"
    ),
    # One's own account.
    ("GET", f"{V1}/me"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/me"), "own"),
    ("PUT", f"{V1}/me/password"): Rule(
        EVERY_ROLE,
        lambda w: Call(
            f"{V1}/me/password",
            json={"current_password": "not-the-password", "new_password": "n3w-password-x"},
        ),
        "own",
    ),
    ("GET", f"{V1}/me/tokens"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/me/tokens"), "own"),
    ("POST", f"{V1}/me/tokens"): Rule(
        EVERY_ROLE, lambda w: Call(f"{V1}/me/tokens", json={"name": "script"}), "own"
    ),
    ("DELETE", f"{V1}/me/tokens/{{token_id}}"): Rule(
        EVERY_ROLE, lambda w: Call(f"{V1}/me/tokens/tok-0000000000000000"), "own"
    ),
    # Accounts (administrators).
    ("GET", f"{V1}/users"): Rule(ADMINS, lambda w: Call(f"{V1}/users")),
    ("POST", f"{V1}/users"): Rule(
        ADMINS,
        lambda w: Call(
            f"{V1}/users",
            json={
                "username": "new-officer",
                "password": "a-long-password-1",
                "roles": ["officer"],
                "wards": [WARD_A],
            },
        ),
    ),
    ("GET", f"{V1}/users/{{username}}"): Rule(ADMINS, lambda w: Call(f"{V1}/users/{SPARE_USER}")),
    ("PATCH", f"{V1}/users/{{username}}"): Rule(
        ADMINS, lambda w: Call(f"{V1}/users/{SPARE_USER}", json={"display_name": "Dự phòng"})
    ),
    ("PUT", f"{V1}/users/{{username}}/password"): Rule(
        ADMINS,
        lambda w: Call(f"{V1}/users/{SPARE_USER}/password", json={"password": SPARE_PASSWORD}),
    ),
    ("GET", f"{V1}/users/{{username}}/tokens"): Rule(
        ADMINS, lambda w: Call(f"{V1}/users/{SPARE_USER}/tokens")
    ),
    ("DELETE", f"{V1}/users/{{username}}/tokens/{{token_id}}"): Rule(
        ADMINS, lambda w: Call(f"{V1}/users/{SPARE_USER}/tokens/tok-0000000000000000")
    ),
    # Places.
    ("GET", f"{V1}/provinces"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/provinces"), "own"),
    ("PUT", f"{V1}/provinces/{{code}}"): Rule(
        ADMINS, lambda w: Call(f"{V1}/provinces/01", json={"name": "Hà Nội"})
    ),
    ("GET", f"{V1}/districts"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/districts"), "own"),
    ("PUT", f"{V1}/districts/{{code}}"): Rule(
        ADMINS,
        lambda w: Call(f"{V1}/districts/002", json={"province_code": "01", "name": "Hoàn Kiếm"}),
    ),
    ("GET", f"{V1}/wards"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/wards"), "own"),
    ("GET", f"{V1}/wards/{{code}}"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/wards/{WARD_A}")),
    ("PUT", f"{V1}/wards/{{code}}"): Rule(
        ADMINS,
        lambda w: Call(
            f"{V1}/wards/{WARD_A}",
            json={"district_code": "002", "name": "Hàng Bạc", "timezone": "Asia/Ho_Chi_Minh"},
        ),
    ),
    ("PUT", f"{V1}/wards/{{code}}/groups/{{group}}"): Rule(
        ADMINS, lambda w: Call(f"{V1}/wards/{WARD_A}/groups/tdp-spare", json={"name": "Dự phòng"})
    ),
    ("DELETE", f"{V1}/wards/{{code}}/groups/{{group}}"): Rule(
        ADMINS, lambda w: Call(f"{V1}/wards/{WARD_A}/groups/tdp-spare")
    ),
    ("PUT", f"{V1}/wards/{{code}}/zones/{{zone}}"): Rule(
        ADMINS,
        lambda w: Call(
            f"{V1}/wards/{WARD_A}/zones/z-spare", json={"name": "Dự phòng", "groups": ["tdp-2"]}
        ),
    ),
    ("DELETE", f"{V1}/wards/{{code}}/zones/{{zone}}"): Rule(
        ADMINS, lambda w: Call(f"{V1}/wards/{WARD_A}/zones/z-spare")
    ),
    ("PUT", f"{V1}/devices/{{device_id}}/placement"): Rule(
        ADMINS,
        lambda w: Call(
            f"{V1}/devices/{w.spare_device}/placement",
            json={"ward_code": WARD_A, "group_code": "tdp-2"},
        ),
    ),
    ("POST", f"{V1}/places/import"): Rule(
        ADMINS,
        lambda w: Call(
            f"{V1}/places/import",
            content=f"ward: {{code: '{WARD_A}'}}\n".encode(),
            headers={"content-type": "application/yaml"},
        ),
    ),
    # Programmes, queues, plans.
    ("GET", f"{V1}/wards/{{ward}}/programme"): Rule(
        EVERY_ROLE, lambda w: Call(f"{V1}/wards/{WARD_A}/programme")
    ),
    ("POST", f"{V1}/wards/{{ward}}/programme/check"): Rule(
        STAFF, lambda w: Call(f"{V1}/wards/{WARD_A}/programme/check", json=_programme(w))
    ),
    ("PUT", f"{V1}/wards/{{ward}}/programme"): Rule(
        ADMINS, lambda w: Call(f"{V1}/wards/{WARD_A}/programme", json=_programme(w))
    ),
    ("GET", f"{V1}/wards/{{ward}}/queue"): Rule(
        STAFF, lambda w: Call(f"{V1}/wards/{WARD_A}/queue")
    ),
    ("POST", f"{V1}/wards/{{ward}}/queue"): Rule(
        OFFICERS,
        lambda w: Call(
            f"{V1}/wards/{WARD_A}/queue",
            json={
                "bulletin_id": w.approved_id,
                "session_code": "chieu",
                "first_date": w.today.isoformat(),
                "last_date": (w.today + timedelta(days=2)).isoformat(),
            },
        ),
    ),
    ("DELETE", f"{V1}/wards/{{ward}}/queue/{{entry}}"): Rule(
        OFFICERS, lambda w: Call(f"{V1}/wards/{WARD_A}/queue/{w.queue_entry_id}")
    ),
    ("GET", f"{V1}/devices/{{device_id}}/plan"): Rule(
        STAFF, lambda w: Call(f"{V1}/devices/{w.device_a}/plan")
    ),
    # Devices.
    ("POST", f"{V1}/devices"): Rule(
        ADMINS,
        lambda w: Call(f"{V1}/devices", json={"device_id": "to-a-new", "name": "Tổ mới"}),
    ),
    ("GET", f"{V1}/devices"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/devices"), "own"),
    ("GET", f"{V1}/devices/{{device_id}}"): Rule(
        EVERY_ROLE, lambda w: Call(f"{V1}/devices/{w.device_a}")
    ),
    ("POST", f"{V1}/devices/{{device_id}}/enrolment-code"): Rule(
        ADMINS, lambda w: Call(f"{V1}/devices/{w.spare_device}/enrolment-code")
    ),
    ("POST", f"{V1}/devices/{{device_id}}/revoke"): Rule(
        ADMINS, lambda w: Call(f"{V1}/devices/{w.spare_device}/revoke")
    ),
    # Bulletins and their workflow.
    ("POST", f"{V1}/bulletins"): Rule(
        OFFICERS,
        lambda w: Call(
            f"{V1}/bulletins",
            json={"title": "Cắt nước", "text": "Ngày mai cắt nước.", "ward_code": WARD_A},
        ),
    ),
    ("POST", f"{V1}/bulletins/upload"): Rule(
        OFFICERS,
        lambda w: Call(
            f"{V1}/bulletins/upload",
            data={"title": "Bản tin", "ward_code": WARD_A},
            files={"file": ("ban-tin.mp3", b"not audio", "audio/mpeg")},
        ),
    ),
    ("GET", f"{V1}/bulletins"): Rule(STAFF, lambda w: Call(f"{V1}/bulletins"), "own"),
    ("GET", f"{V1}/bulletins/{{bulletin_id}}"): Rule(
        STAFF, lambda w: Call(f"{V1}/bulletins/{w.draft_id}")
    ),
    ("GET", f"{V1}/bulletins/{{bulletin_id}}/history"): Rule(
        STAFF, lambda w: Call(f"{V1}/bulletins/{w.submitted_id}/history")
    ),
    ("POST", f"{V1}/bulletins/{{bulletin_id}}/submit"): Rule(
        OFFICERS, lambda w: Call(f"{V1}/bulletins/{w.draft_id}/submit")
    ),
    ("POST", f"{V1}/bulletins/{{bulletin_id}}/approve"): Rule(
        APPROVERS, lambda w: Call(f"{V1}/bulletins/{w.submitted_id}/approve")
    ),
    ("POST", f"{V1}/bulletins/{{bulletin_id}}/reject"): Rule(
        APPROVERS,
        lambda w: Call(f"{V1}/bulletins/{w.submitted_id}/reject", json={"reason": "Sửa giờ."}),
    ),
    ("POST", f"{V1}/bulletins/{{bulletin_id}}/withdraw"): Rule(
        OFFICERS, lambda w: Call(f"{V1}/bulletins/{w.submitted_id}/withdraw")
    ),
    ("POST", f"{V1}/bulletins/{{bulletin_id}}/archive"): Rule(
        OFFICERS, lambda w: Call(f"{V1}/bulletins/{w.approved_id}/archive")
    ),
    ("PATCH", f"{V1}/bulletins/{{bulletin_id}}"): Rule(
        OFFICERS, lambda w: Call(f"{V1}/bulletins/{w.draft_id}", json={"title": "Sửa tiêu đề"})
    ),
    ("GET", f"{V1}/bulletins/{{bulletin_id}}/audio"): Rule(
        STAFF, lambda w: Call(f"{V1}/bulletins/{w.approved_id}/audio")
    ),
    ("GET", f"{V1}/tts/voices"): Rule(STAFF, lambda w: Call(f"{V1}/tts/voices"), "own"),
    # Broadcasts and emergencies.
    ("POST", f"{V1}/broadcasts"): Rule(
        OFFICERS,
        lambda w: Call(
            f"{V1}/broadcasts",
            json={
                "bulletin_id": w.approved_id,
                "device_ids": [w.device_a],
                "start_at": (datetime.now(UTC) + timedelta(hours=3)).isoformat(),
            },
        ),
    ),
    ("GET", f"{V1}/broadcasts"): Rule(STAFF, lambda w: Call(f"{V1}/broadcasts"), "own"),
    ("GET", f"{V1}/broadcasts/{{broadcast_id}}"): Rule(
        STAFF, lambda w: Call(f"{V1}/broadcasts/{w.broadcast_id}")
    ),
    ("POST", f"{V1}/broadcasts/{{broadcast_id}}/cancel"): Rule(
        STAFF, lambda w: Call(f"{V1}/broadcasts/{w.broadcast_id}/cancel")
    ),
    ("POST", f"{V1}/emergencies"): Rule(
        APPROVERS, lambda w: Call(f"{V1}/emergencies", json=_emergency(w))
    ),
    ("GET", f"{V1}/emergencies"): Rule(STAFF, lambda w: Call(f"{V1}/emergencies"), "own"),
    ("GET", f"{V1}/emergencies/{{emergency_id}}/progress"): Rule(
        STAFF, lambda w: Call(f"{V1}/emergencies/{w.emergency_id}/progress")
    ),
    ("GET", f"{V1}/emergencies/{{emergency_id}}/events"): Rule(
        STAFF, lambda w: Call(f"{V1}/emergencies/{w.emergency_id}/events")
    ),
    # Evidence, bundles, reports: what evaluators come for.
    ("GET", f"{V1}/evidence"): Rule(
        EVERY_ROLE, lambda w: Call(f"{V1}/evidence", params={"device_id": w.device_a}), "own"
    ),
    ("GET", f"{V1}/evidence/gaps"): Rule(EVERY_ROLE, lambda w: Call(f"{V1}/evidence/gaps"), "own"),
    ("GET", f"{V1}/evidence/missed"): Rule(
        EVERY_ROLE,
        lambda w: Call(f"{V1}/evidence/missed", params={"ward": WARD_A, "period": _day(w)}),
    ),
    ("GET", f"{V1}/evidence/bundle"): Rule(
        EVERY_ROLE,
        lambda w: Call(f"{V1}/evidence/bundle", params={"ward": WARD_A, **_period(w)}),
    ),
    ("POST", f"{V1}/evidence/archives"): Rule(
        ADMINS, lambda w: Call(f"{V1}/evidence/archives", json={"ward": WARD_A, **_period(w)})
    ),
    ("GET", f"{V1}/evidence/archives"): Rule(
        EVERY_ROLE, lambda w: Call(f"{V1}/evidence/archives", params={"ward": WARD_A})
    ),
    ("GET", f"{V1}/reports"): Rule(
        EVERY_ROLE, lambda w: Call(f"{V1}/reports", params={"ward": WARD_A, "period": _day(w)})
    ),
    ("GET", f"{V1}/rejected-messages"): Rule(ADMINS, lambda w: Call(f"{V1}/rejected-messages")),
    ("GET", f"{V1}/rejected-messages/counters"): Rule(
        ADMINS, lambda w: Call(f"{V1}/rejected-messages/counters")
    ),
    ("GET", f"{V1}/security-records"): Rule(ADMINS, lambda w: Call(f"{V1}/security-records")),
    # Operations: Prometheus's scrape (its own token, or an administrator's).
    ("GET", "/metrics"): Rule(ADMINS, lambda w: Call("/metrics")),
}


# Not API routes: FastAPI's own pages, which describe the API and hold no data, and the
# console's static files (stylesheet, vendored htmx, Swagger UI and ReDoc assets).
DOCS_PAGES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static"}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, read from its routes (docs pages aside)."""
    found = set()
    for context in iter_route_contexts(app.routes):
        # The console's pages (cookie sessions, not in the OpenAPI document) have their own
        # role tests: tests/unit/console/test_console_*.py.
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            for method in context.methods or ():
                found.add((method, str(context.path_format)))
    return found


def other_routes(app: FastAPI) -> set[str]:
    """Paths served by something other than an API route (a mounted app, a static folder)."""
    return {
        str(context.path)
        for context in iter_route_contexts(app.routes)
        if not isinstance(context.original_route, APIRoute)
    }


@pytest.fixture
def app_world(tmp_path: Path) -> Iterator[tuple[FastAPI, TwoWards, TestClient]]:
    w = build(tmp_path)
    app = create_app(runtime=w.runtime)
    with TestClient(app) as client:
        yield app, w, client
    w.runtime.stop()


@pytest.fixture
def world(app_world: tuple[FastAPI, TwoWards, TestClient]) -> tuple[TwoWards, TestClient]:
    return app_world[1], app_world[2]


def send(client: TestClient, method: str, call: Call, headers: dict[str, str]) -> httpx.Response:
    """The request, with an identity's headers (none for nobody)."""
    response: httpx.Response = client.request(
        method,
        call.path,
        params=call.params,
        json=call.json,
        content=call.content,
        headers={**(call.headers or {}), **headers},
        files=call.files,
        data=call.data,
    )
    return response


def _line(method: str, path: str, who: str, got: httpx.Response, wanted: str) -> str:
    return f"{method} {path} as {who}: {got.status_code} {got.text[:160]!r}, wanted {wanted}"


def test_every_route_has_exactly_one_rule(
    app_world: tuple[FastAPI, TwoWards, TestClient],
) -> None:
    served = app_routes(app_world[0])
    missing = sorted(served - set(MATRIX))
    stale = sorted(set(MATRIX) - served)
    assert not missing, f"routes with no rule in MATRIX (add one): {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"
    # Anything served outside the API routes escapes the matrix: only the docs pages may.
    assert other_routes(app_world[0]) == DOCS_PAGES


def test_nobody_and_the_wrong_roles_are_refused_at_the_door(
    world: tuple[TwoWards, TestClient],
) -> None:
    w, client = world
    wrong: list[str] = []
    bogus = {"Authorization": "Bearer wct_not-a-token-at-all"}
    for (method, path), rule in MATRIX.items():
        if rule.scope in ("public", "signed"):
            continue
        call = rule.call(w)
        for who, headers in (("nobody", {}), ("a bogus token", bogus)):
            got = send(client, method, call, headers)
            if got.status_code != 401:
                wrong.append(_line(method, path, who, got, "401"))
        refused = [r for r in SCOPED_ROLES if r not in rule.roles]
        if not rule.roles & set(SCOPED_ROLES):
            refused.append("other_ward")  # ward B's actor holds every role but admin
        for who in refused:
            got = send(client, method, call, w.headers[who])
            if got.status_code != 403:
                wrong.append(_line(method, path, who, got, "403"))
    assert not wrong, "\n".join(wrong)


def test_another_wards_actor_is_refused_and_sees_nothing_of_ours(
    world: tuple[TwoWards, TestClient],
) -> None:
    w, client = world
    wrong: list[str] = []
    for (method, path), rule in MATRIX.items():
        if rule.scope in ("public", "signed"):
            continue
        got = send(client, method, rule.call(w), w.headers["other_ward"])
        if rule.scope == "ward" and got.status_code != 403:
            wrong.append(_line(method, path, "ward B's actor", got, "403"))
        # A refusal may name what was asked for; an answer may not show ward A's things.
        answered = got.status_code < 400
        leaked = sorted(m for m in w.markers() if answered and m and m in got.text)
        if leaked:
            wrong.append(f"{method} {path} showed ward B's actor ward A's {leaked}")
    assert not wrong, "\n".join(wrong)


def test_every_allowed_role_gets_past_the_door(world: tuple[TwoWards, TestClient]) -> None:
    w, client = world
    wrong: list[str] = []
    for (method, path), rule in MATRIX.items():
        if rule.scope in ("public", "signed"):
            continue
        for who in sorted(rule.roles, key=lambda r: r == "admin"):  # the admin last
            got = send(client, method, rule.call(w), w.headers[who])
            if got.status_code in (401, 403):
                wrong.append(_line(method, path, who, got, "neither 401 nor 403"))
    assert not wrong, "\n".join(wrong)


def test_the_public_doors_ask_for_no_token(world: tuple[TwoWards, TestClient]) -> None:
    w, client = world
    for (method, path), rule in MATRIX.items():
        if rule.scope == "public":
            got = send(client, method, rule.call(w), {})
            assert "sign in" not in got.text, _line(method, path, "nobody", got, "no sign-in")
    assert send(client, "GET", Call(f"{V1}/health"), {}).status_code == 200
    signed_in = send(client, "POST", MATRIX[("POST", f"{V1}/auth/token")].call(w), {})
    assert signed_in.status_code == 200 and signed_in.json()["token"].startswith("wct_")


def test_media_opens_to_a_signed_link_only(world: tuple[TwoWards, TestClient]) -> None:
    w, client = world
    unsigned = send(client, "GET", Call(f"/media/{w.media_sha256}.ogg"), {})
    assert unsigned.status_code == 403
    # Not with an account either: a token is not a signature.
    as_admin = send(client, "GET", Call(f"/media/{w.media_sha256}.ogg"), w.headers["admin"])
    assert as_admin.status_code == 403
    url = w.runtime.media_signer.at(w.runtime.clock.now()).url(w.media_sha256, "ogg")
    parts = urlsplit(url)
    signed = client.get(f"{parts.path}?{parts.query}")
    assert signed.status_code == 200 and signed.content.startswith(b"OggS")
