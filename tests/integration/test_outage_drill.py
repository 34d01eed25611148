"""Drill: the ward's broker restarts just as the officer sends the evacuation order.

The real parts: a controller runtime served by uvicorn (the agents fetch the audio from
it, as a Pi would), a persistent mosquitto (``EmbeddedBroker(persistence=True)``, as in
the field) and three agents in an ``AgentFleet`` listening on their ward's channel.
The broker is stopped; the controller and the agents see the loss; the ward leader
sends an emergency (CAP Alert) through the API while it is down, or an officer a "now"
broadcast; the broker comes back.

- Back within the order's expiry: the API answered 201 (accepted, not a 500), the
  controller is back within seconds, every agent plays it once, every confirmation is
  stored once, and the officer's view reaches "done".
- Back after the CAP ``expires``: no agent plays the stale order late, and the
  officer's view says it was not played.
- The controller restarted during the outage: test_outage_drill_restart.py.

The outage's length is the scenario's own parameter (the broker down a few seconds);
everything else is polled with a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.auth import auth_headers
from tests.support.drills import evidence_of, wait_for
from tests.support.outage_drill import (
    DEVICES,
    EXPIRES_S,
    ORDER,
    OUTAGE_S,
    WARD,
    Drill,
    break_the_broker,
    bring_back_and_check_played_once,
    cap_alert,
    connected,
    outage_lasts,
    progress,
    running_drill,
    until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    """The drill running (tests/support/outage_drill.py)."""
    with running_drill(tmp_path) as running:
        yield running


def test_an_emergency_sent_while_the_broker_is_down_plays_once_everywhere_when_it_returns(
    drill: Drill,
) -> None:
    d = drill
    break_the_broker(d)
    asked = time.monotonic()
    made = d.http.post("/api/v1/emergencies", json=cap_alert("lu-outage-1"), headers=d.leader)
    answered = time.monotonic() - asked
    # Accepted, not a 500: the order waits for the broker in the controller's link.
    assert made.status_code == 201, made.text
    emergency = made.json()
    assert emergency["state"] == "playing"
    during = progress(d, emergency["id"])
    assert during["status"] in ("sent", "playing") and not during["over"], during
    outage_lasts(OUTAGE_S)

    bring_back_and_check_played_once(d, emergency["broadcast_id"], answered)
    final = until(d, emergency["id"], lambda p: p.get("over"), 30)
    assert final["status"] == "done", final
    assert final["stages"] == {"confirmed": len(DEVICES)}


def test_a_now_broadcast_sent_while_the_broker_is_down_plays_once_when_it_returns(
    drill: Drill,
) -> None:
    d = drill
    officer = auth_headers(d.runtime, "officer", wards=[WARD], username="can-bo")
    body = {"title": "Sơ tán", "text": ORDER, "ward_code": WARD, "chime": False}
    bulletin = d.http.post("/api/v1/bulletins", json=body, headers=officer).json()
    assert d.http.post(f"/api/v1/bulletins/{bulletin['id']}/submit", headers=officer).is_success
    approved = d.http.post(f"/api/v1/bulletins/{bulletin['id']}/approve", headers=d.leader)
    assert approved.status_code == 200, approved.text
    break_the_broker(d)
    asked = time.monotonic()
    now = {"bulletin_id": bulletin["id"], "ward_code": WARD}
    made = d.http.post("/api/v1/broadcasts", json=now, headers=officer)
    answered = time.monotonic() - asked
    assert made.status_code == 201, made.text
    broadcast_id = made.json()["id"]
    outage_lasts(OUTAGE_S)

    bring_back_and_check_played_once(d, broadcast_id, answered)
    shown = d.http.get(f"/api/v1/broadcasts/{broadcast_id}", headers=officer).json()
    assert shown["status"] == "done", shown
    assert {t["state"] for t in shown["targets"]} == {"completed"}


def test_an_emergency_whose_expiry_passes_with_the_broker_down_is_not_played_late(
    drill: Drill,
) -> None:
    d = drill
    break_the_broker(d)
    back = links_back(d)
    expires = datetime.now(UTC) + timedelta(seconds=EXPIRES_S)
    alert = cap_alert("lu-outage-2", expires=expires.isoformat())
    made = d.http.post("/api/v1/emergencies", json=alert, headers=d.leader)
    assert made.status_code == 201, made.text
    emergency = made.json()
    broadcast_id = emergency["broadcast_id"]
    # The MQTT message expiry the controller gave the order: whole seconds, floored, left
    # when it published during the call, so at least this. The broker keeps its copy for
    # a device's session that long after it gets it.
    kept_s = int((expires - datetime.now(UTC)).total_seconds())
    # Down until the CAP expiry has passed.
    outage_lasts((expires - datetime.now(UTC)).total_seconds() + 1)

    d.broker.start()
    agents = d.fleet.agents.values()
    assert wait_for(lambda: all(connected(d)), 20), "not everyone came back"

    def refused() -> dict[str, int]:
        return d.fleet.call(lambda: {a.device_id: a.stats.expired_ignored for a in agents})

    def heard() -> bool:
        # The controller's link gives the broker the order as soon as it is back; the
        # broker keeps it for a device's session ``kept_s`` more. A device back within
        # that must get it and refuse it; one back later is rightly never sent it (under
        # load, the agents' jittered backoff can bring one back that late).
        dropped_at = back["controller"] + kept_s
        return all(n or back.get(dev, 0.0) > dropped_at for dev, n in refused().items()) or any(
            s[1] == broadcast_id for s in d.starts
        )

    assert wait_for(heard, 20), f"the stale order never reached the agents: {refused()} {back}"
    print(f"refused by {refused()}; links back (s after the controller's): {since(back)}")
    assert [s for s in d.starts if s[1] == broadcast_id] == [], "a stale order played late"
    view = progress(d, emergency["id"])
    print(f"officer's view after the expiry: {view['status']} {view['stages']}")
    assert view["status"] == "failed", view
    assert view["stages"] == {"failed": len(DEVICES)}
    shown = d.http.get(f"/api/v1/broadcasts/{broadcast_id}", headers=d.leader).json()
    assert {t["state"] for t in shown["targets"]} == {"expired"}, shown
    for device_id in DEVICES:
        assert all(e.broadcast_id != broadcast_id for e in evidence_of(d.runtime, device_id))


def links_back(d: Drill) -> dict[str, float]:
    """When (monotonic) the controller's link and each agent's next came up; filled in
    by their own connection handlers, as it happens."""
    back: dict[str, float] = {}

    def on(name: str) -> Callable[[bool], None]:
        def seen(up: bool) -> None:
            if up:
                back.setdefault(name, time.monotonic())

        return seen

    d.runtime.transport.add_connection_handler(on("controller"))
    agents = list(d.fleet.agents.values())
    d.fleet.call(lambda: [a.transport.add_connection_handler(on(a.device_id)) for a in agents])
    return back


def since(back: dict[str, float]) -> dict[str, float]:
    """Each link's return, in seconds after the controller's."""
    return {name: round(at - back["controller"], 2) for name, at in back.items()}
