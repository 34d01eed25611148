"""Drill: the controller restarts while the broker is down (tests/support/outage_drill.py).

What waited in the stopped controller's link (paho's memory) is lost with it; the new
controller sends again at its start what is still owed (controller/domain/broadcasts/
resend.py):

- an order not yet delivered: every agent plays it once, each confirmation stored once;
- a cancel of an order the agents were already sounding: every agent stops, in the
  cancel's words, long before the clip would have ended.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.auth import auth_headers
from tests.support.drills import evidence_of, wait_for
from tests.support.outage_drill import (
    DEVICES,
    ORDER,
    WARD,
    Drill,
    break_the_broker,
    bring_back_and_check_played_once,
    cap_alert,
    restart_the_controller,
    running_drill,
    until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    """The drill running (tests/support/outage_drill.py)."""
    with running_drill(tmp_path) as running:
        yield running


def test_an_emergency_held_by_a_controller_restarted_during_the_outage_plays_once(
    drill: Drill, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = drill
    break_the_broker(d)
    asked = time.monotonic()
    made = d.http.post("/api/v1/emergencies", json=cap_alert("lu-outage-3"), headers=d.leader)
    answered = time.monotonic() - asked
    assert made.status_code == 201, made.text
    emergency = made.json()
    restart_the_controller(d, monkeypatch)

    # The new controller sent the order again at its start (a new command, the same item
    # and expiry): every agent plays it once, each confirmation is stored once.
    bring_back_and_check_played_once(d, emergency["broadcast_id"], answered)
    final = until(d, emergency["id"], lambda p: p.get("over"), 30)
    assert final["status"] == "done", final
    assert final["stages"] == {"confirmed": len(DEVICES)}


def test_a_cancel_held_by_a_controller_restarted_during_the_outage_still_stops_the_play(
    drill: Drill, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order reached the agents and sounds; the broker goes down; the officer cancels
    (the stop waits in the controller's link); the controller restarts, losing it; the
    new one sends the stop again at its start, and every agent stops, in the cancel's
    words, long before the clip would have ended."""
    d = drill
    officer = auth_headers(d.runtime, "officer", wards=[WARD], username="can-bo")
    long_text = " ".join([ORDER] * 15)  # about a minute of speech
    body = {"title": "Sơ tán", "text": long_text, "ward_code": WARD, "chime": False}
    bulletin = d.http.post("/api/v1/bulletins", json=body, headers=officer).json()
    assert d.http.post(f"/api/v1/bulletins/{bulletin['id']}/submit", headers=officer).is_success
    approved = d.http.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=d.leader)
    assert approved.status_code == 200, approved.text
    made = d.http.post(
        "/api/v1/broadcasts",
        json={"bulletin_id": bulletin["id"], "ward_code": WARD},
        headers=officer,
    )
    assert made.status_code == 201, made.text
    broadcast_id = made.json()["id"]
    sounding = lambda: {s[0] for s in d.starts if s[1] == broadcast_id} == set(DEVICES)  # noqa: E731
    assert wait_for(sounding, 30), f"not every agent started the order: {d.starts}"
    break_the_broker(d)
    cancelled = d.http.post(
        f"/api/v1/broadcasts/{broadcast_id}/cancel", json={"reason": "nhầm phường"}, headers=officer
    )
    assert cancelled.status_code == 200, cancelled.text
    restart_the_controller(d, monkeypatch)
    d.broker.start()  # same port, same persisted sessions
    stopped_at = time.monotonic()

    def all_stopped() -> bool:
        rows = [e for dev in DEVICES for e in evidence_of(d.runtime, dev)]
        return len([e for e in rows if e.broadcast_id == broadcast_id]) == len(DEVICES)

    # Well within the clip's minute: only the stop sent again can end the plays this soon.
    assert wait_for(all_stopped, 30), "not every agent stopped and confirmed"
    for device_id in DEVICES:
        (row,) = [e for e in evidence_of(d.runtime, device_id) if e.broadcast_id == broadcast_id]
        assert row.outcome == "partial", (device_id, row.outcome)
        assert "cancelled by can-bo: nhầm phường" in (row.reason or ""), row.reason
    print(f"every agent stopped {time.monotonic() - stopped_at:.1f} s after the broker's return")
