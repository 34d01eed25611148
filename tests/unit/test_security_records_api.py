"""GET /api/v1/security-records: refusals for administrators, newest first, filterable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.api.app import create_app
from tests.support.auth import auth_headers
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import Kind, SecurityReport
from wardcast_protocol.topics import DeviceChannel, device_topic


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


@pytest.fixture
def api(h: Harness) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=h.runtime)) as client:
        yield client


def _refusals(h: Harness) -> None:
    """to-1 reports a command it refused; to-2 sends an event for an item never planned."""
    report = SecurityReport(
        report_id="sr-1",
        at=h.clock.now(),
        reason="not_addressed",
        topic=device_topic("to-1", DeviceChannel.COMMAND),
        detail="command is for to-2, not this device",
        command_id="cmd-1",
        item_id="bc-1",
    )
    h.device_sends("to-1", DeviceChannel.SECURITY, Kind.SECURITY, report)
    forged = h.event("to-2", item_id="bc-forged", broadcast_id="bc-forged")
    h.device_sends("to-2", DeviceChannel.EVENT, Kind.EVENT, forged)


def test_an_administrator_reads_both_kinds_newest_first(api: TestClient, h: Harness) -> None:
    _refusals(h)
    answer = api.get("/api/v1/security-records", headers=auth_headers(h.runtime))
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    assert [(r["device_id"], r["origin"], r["reason"]) for r in rows] == [
        ("to-2", "controller", "unplanned_item"),
        ("to-1", "device", "not_addressed"),
    ]
    assert rows[1]["command_id"] == "cmd-1" and rows[1]["report_id"] == "sr-1"
    assert rows[0]["event_id"] == "ev-1" and rows[0]["seq"] == 1
    assert rows[0]["signed"].startswith("{") and rows[0]["sig"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"device_id": "to-1"}, ["sr-1"]),
        ({"origin": "controller"}, [None]),
        ({"origin": "device", "device_id": "to-2"}, []),
        ({"limit": 1, "offset": 1}, ["sr-1"]),
    ],
)
def test_records_filter_by_device_and_origin(
    api: TestClient, h: Harness, query: dict[str, object], expected: list[str | None]
) -> None:
    _refusals(h)
    answer = api.get("/api/v1/security-records", params=query, headers=auth_headers(h.runtime))
    assert [r["report_id"] for r in answer.json()] == expected


@pytest.mark.parametrize(
    ("params", "status"),
    [({"origin": "attacker"}, 422), ({"limit": 0}, 422), ({"device_id": "a/b"}, 422)],
)
def test_bad_filters_are_422(
    api: TestClient, h: Harness, params: dict[str, object], status: int
) -> None:
    answer = api.get("/api/v1/security-records", params=params, headers=auth_headers(h.runtime))
    assert answer.status_code == status


def test_only_administrators_read_security_records(api: TestClient, h: Harness) -> None:
    assert api.get("/api/v1/security-records").status_code == 401
    officer = auth_headers(h.runtime, "officer", all_wards=True)
    assert api.get("/api/v1/security-records", headers=officer).status_code == 403
