"""While the controller cannot reach the broker, staff pages say so: an order sent then
waits in the controller, and no page may let it look as if it had left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from controller.console.live import StreamRules
from controller.console.pages import broadcasts as broadcasts_page
from controller.domain.broadcasts.service import BroadcastRequest
from tests.support.console import WARD_A, WARD_B, sign_in
from tests.unit.controller_support import Harness

NOTICE_VI = "Máy chủ điều khiển đang mất kết nối với máy chủ tin nhắn"


def _broadcast(h: Harness) -> str:
    start = h.clock.now() + timedelta(minutes=30)
    return h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], start)).id


def test_every_staff_page_says_so_while_the_broker_is_unreachable(
    client: TestClient, h: Harness
) -> None:
    broadcast_id = _broadcast(h)
    sign_in(client, "officer", [WARD_A, WARD_B])
    assert h.runtime.broker_connected()
    assert NOTICE_VI not in client.get("/").text
    h.runtime.transport.go_offline()  # type: ignore[attr-defined]
    dashboard = client.get("/").text
    assert dashboard.count(NOTICE_VI) == 1 and 'role="alert"' in dashboard
    status = client.get(f"/broadcasts/{broadcast_id}").text
    assert status.count(NOTICE_VI) == 1  # in its live part, not twice
    part = client.get(f"/broadcasts/{broadcast_id}/progress", headers={"HX-Request": "true"})
    assert NOTICE_VI in part.text
    h.runtime.transport.go_online()  # type: ignore[attr-defined]
    assert NOTICE_VI not in client.get(f"/broadcasts/{broadcast_id}").text


def test_a_sign_in_page_does_not_tell_strangers(client: TestClient, h: Harness) -> None:
    h.runtime.transport.go_offline()  # type: ignore[attr-defined]
    assert NOTICE_VI not in client.get("/login").text


def test_the_live_status_changes_when_the_broker_drops(
    client: TestClient, h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    broadcast_id = _broadcast(h)
    sign_in(client, "officer", [WARD_A, WARD_B])

    async def broker_drops(seconds: float) -> None:
        h.runtime.transport.go_offline()  # type: ignore[attr-defined]

    monkeypatch.setattr(broadcasts_page, "sleep", broker_drops)
    monkeypatch.setattr(broadcasts_page, "RULES", StreamRules(1.0, 3, 700))
    body = client.get(f"/broadcasts/{broadcast_id}/events").text
    # Nothing else changed: the second part is sent only because the broker dropped.
    assert body.count("event: progress") == 2 and body.count(NOTICE_VI) == 1
