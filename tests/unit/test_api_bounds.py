"""Bad input at the API's door: out-of-range values are 422s that name the limit.

Offsets past 2⁶³ once reached the database (a 500 on three lists); a negative Unix time
was stored as a validity in 1969; a lone surrogate in a body made the 422 itself
unencodable. And every error body, from the domain or from validation, has the one
documented shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.api.bounds import MAX_OFFSET
from controller.api.schemas.errors import ErrorPublic
from tests.support.auth import auth_headers as admin_headers
from tests.unit.controller_support import Harness, make_harness


def auth_headers(h: Harness) -> dict[str, str]:
    """The headers of an administrator: the one place this test says who it is."""
    return admin_headers(h.runtime)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    with TestClient(
        create_app(runtime=h.runtime), headers=auth_headers(h), raise_server_exceptions=False
    ) as client:
        yield client


def _issues(body: dict[str, Any]) -> list[dict[str, Any]]:
    ErrorPublic.model_validate(body)
    detail = body["detail"]
    assert isinstance(detail, list)
    return detail


@pytest.mark.parametrize("path", ["/api/v1/broadcasts", "/api/v1/bulletins", "/api/v1/evidence"])
def test_an_offset_past_the_limit_is_a_422_naming_it(api: TestClient, path: str) -> None:
    refused = api.get(path, params={"offset": 2**63})
    assert refused.status_code == 422
    (issue,) = _issues(refused.json())
    assert issue["loc"] == ["query", "offset"]
    assert str(MAX_OFFSET) in issue["msg"]
    assert api.get(path, params={"offset": MAX_OFFSET}).status_code == 200


@pytest.mark.parametrize(
    "instant", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "1999-12-31T23:59:59Z"]
)
def test_an_instant_outside_the_century_is_a_422(api: TestClient, instant: str) -> None:
    refused = api.get("/api/v1/evidence", params={"from": instant})
    assert refused.status_code == 422
    (issue,) = _issues(refused.json())
    assert issue["loc"] == ["query", "from"]
    assert "2000-01-01" in issue["msg"] or "2100-01-01" in issue["msg"]


def test_a_negative_unix_time_is_not_a_validity(api: TestClient) -> None:
    body = {"title": "Cắt nước", "text": "Ngày mai cắt nước.", "valid_until": -466758}
    refused = api.post("/api/v1/bulletins", json=body)
    assert refused.status_code == 422
    (issue,) = _issues(refused.json())
    assert issue["loc"] == ["body", "valid_until"]
    assert "2000-01-01" in issue["msg"]


def test_a_queue_day_in_year_9999_is_refused(api: TestClient) -> None:
    body = {
        "bulletin_id": "bul-1",
        "session_code": "sang",
        "first_date": "2026-11-23",
        "last_date": "9999-12-31",
    }
    refused = api.post("/api/v1/wards/26734/queue", json=body)
    assert refused.status_code == 422
    assert _issues(refused.json())[0]["loc"] == ["body", "last_date"]


def test_a_lone_surrogate_is_a_422_not_a_500(api: TestClient) -> None:
    raw = b'{"title": "x\\ud800", "text": "y"}'
    refused = api.post(
        "/api/v1/bulletins", content=raw, headers={"content-type": "application/json"}
    )
    assert refused.status_code == 422
    assert _issues(refused.json())[0]["loc"] == ["body", "title"]


@pytest.mark.parametrize("title", ["Cắt\x00nước", "Cắt\nnước", "\x1b[31mĐỏ"])
def test_a_title_with_a_control_character_is_refused(api: TestClient, title: str) -> None:
    refused = api.post("/api/v1/bulletins", json={"title": title, "text": "Xin chào."})
    assert refused.status_code == 422
    assert _issues(refused.json())[0]["loc"] == ["body", "title"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/bulletins/bul%00x", "/api/v1/devices/" + "d" * 65, "/api/v1/wards/" + "9" * 17],
)
def test_a_path_id_of_the_wrong_shape_is_refused_before_any_query(
    api: TestClient, path: str
) -> None:
    refused = api.get(path)
    assert refused.status_code == 422
    assert _issues(refused.json())[0]["loc"][0] == "path"


def test_a_domain_refusal_has_the_documented_shape_too(api: TestClient) -> None:
    refused = api.get("/api/v1/reports", params={"period": "someday", "ward": "26734"})
    assert refused.status_code == 422
    body = ErrorPublic.model_validate(refused.json())
    assert isinstance(body.detail, str) and "is not a period" in body.detail
    missing = api.get("/api/v1/bulletins/bul-none")
    assert missing.status_code == 404
    ErrorPublic.model_validate(missing.json())


def test_every_operation_documents_its_errors_with_one_schema(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("404", "422", "500"):
                content = operation["responses"][status]["content"]
                schema = next(iter(content.values()))["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorPublic"}, (
                    method,
                    path,
                    status,
                )


def test_every_integer_parameter_has_a_ceiling(api: TestClient) -> None:
    # A new list with an unbounded ?offset= fails here before it can reach a database.
    spec = api.get("/openapi.json").json()
    unbounded = [
        f"{method.upper()} {path} ?{param['name']}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for param in operation.get("parameters", [])
        if param["schema"].get("type") == "integer" and "maximum" not in param["schema"]
    ]
    assert not unbounded, unbounded
