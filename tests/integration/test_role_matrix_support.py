"""What the role-matrix tests share (no tests here): the table's words, and the world.

``Call`` and ``Rule`` (a row of ``MATRIX`` in ``test_role_matrix.py``), the role sets
the rows name and the realistic bodies their calls send; the routes the app serves
(``app_routes``, ``other_routes``, ``DOCS_PAGES``); the two-ward world with its app and
client (the fixtures ``app_world`` and ``world``: import them and name them in
``__all__`` so pytest sees them); ``send``, one request as one identity. Moved as is
from ``test_role_matrix.py`` when its tests were split into coverage, refusals and
admissions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from controller.api.app import create_app
from controller.domain.programmes.yaml_io import load_programme
from tests.support.two_wards import PROGRAMME, WARD_A, TwoWards, build
from wardcast_protocol.signing import SigningKey

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
