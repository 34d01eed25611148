"""The role matrix: every route × every identity, and the table says who may succeed.

Generated from the app's own routes (``iter_route_contexts(app.routes)``): a route with
no row in ``MATRIX`` fails the test here, and so does a row whose route is gone — so a
new route cannot ship without a rule. Each row names the roles that may call the route
(administrators pass every gate), how the route treats scope, and a realistic call:
real ids of ward A's things and valid bodies, so that a success would be *possible* if a
check were missing, and a 404 or a 422 cannot hide one. The table is walked for who is
turned away in ``test_role_refusals.py`` and for who gets in in ``test_role_admissions.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.test_role_matrix_support import (
    ADMINS,
    APPROVERS,
    DOCS_PAGES,
    EVERY_ROLE,
    OFFICERS,
    STAFF,
    V1,
    Call,
    Rule,
    _day,
    _emergency,
    _key,
    _period,
    _programme,
    app_routes,
    app_world,
    other_routes,
)
from tests.support.two_wards import SPARE_PASSWORD, SPARE_USER, WARD_A, TwoWards

pytestmark = pytest.mark.integration

__all__ = ["app_world"]  # the fixture, imported for pytest

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
