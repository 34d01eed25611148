"""Route behaviours the HTTP layer's shape decides: health, and the place import's door.

The import reads its body in a dependency so the route can be a plain ``def``; these
pin what that must not change: who is refused first, how large is too large, and that
the body's type (not a JSON parser) decides how it is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.api.routes.places import MAX_IMPORT_BYTES
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness, make_harness

Headers = dict[str, str]


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=h.runtime)) as client:
        yield client


@pytest.fixture
def admin(h: Harness) -> Headers:
    return auth_headers(h.runtime, "admin")


@pytest.fixture
def officer(h: Harness) -> Headers:
    return auth_headers(h.runtime, "officer")


def test_health_says_whether_the_broker_is_connected(api: TestClient) -> None:
    health = api.get("/api/v1/health").json()
    assert health == {
        "status": "ok",
        "broker_connected": True,
        "broker_url": None,
        "broker_restarts": 0,
    }


def test_the_import_refuses_a_stranger_then_an_officer_before_reading_the_body(
    api: TestClient, officer: Headers
) -> None:
    big = b"x" * (MAX_IMPORT_BYTES + 1)
    assert api.post("/api/v1/places/import", content=big).status_code == 401
    refused = api.post("/api/v1/places/import", content=big, headers=officer)
    assert refused.status_code == 403 and "importing places" in refused.json()["detail"]


def test_an_oversized_import_is_refused_with_its_limit(api: TestClient, admin: Headers) -> None:
    big = b"x" * (MAX_IMPORT_BYTES + 1)
    refused = api.post("/api/v1/places/import", content=big, headers=admin)
    assert refused.status_code == 413
    assert refused.json() == {"detail": "the import file is larger than 5 MiB"}


def test_the_body_type_decides_how_an_import_is_read(api: TestClient, admin: Headers) -> None:
    csv = {**admin, "content-type": "text/csv"}
    no_ward = api.post("/api/v1/places/import", content=b"group_code\n", headers=csv)
    assert no_ward.status_code == 422 and "?ward=" in no_ward.json()["detail"]
    # JSON is not parsed as JSON: it is YAML's problem to say what is wrong with it.
    json_body = {**admin, "content-type": "application/json"}
    as_yaml = api.post("/api/v1/places/import", content=b'{"ward": 1}', headers=json_body)
    assert as_yaml.status_code == 422 and "detail" in as_yaml.json()
