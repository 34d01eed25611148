"""Was a planned play confirmed? is a key lookup, not a walk of the device's events.

The dashboard's sessions of the day, "playing now" and missed plays, and an evidence
bundle's list of what was owed and not confirmed, ask it of many planned plays. With
only the evidence's indexes by device, SQLite walked that device's every event each
time (or, for the day's sessions, asked by item alone, scanned all evidence): a ward-year
bundle of 20 devices asked it 73,000 times over 3,650 events each (migration 0021,
docs/scale.md "A ward after months"). The plans are SQLite's own, for the statements
the code ran (``tests/support/query_plans.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from controller.db.models import PlaybackEvidence
from controller.domain.actors import SYSTEM
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.evidence.batch_store import create_chains, held
from controller.domain.evidence.bundles.build import build_bundle
from controller.domain.overview import today
from controller.domain.overview.devices import device_statuses
from tests.support.query_plans import assert_no_history_walked, reads_of, vm_steps
from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_plan_refresh_batch import EAST, WEST, place_wards


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    place_wards(harness)
    # Something planned in each ward: a "now" and a broadcast for later.
    schedule = harness.runtime.broadcasts.schedule
    schedule(BroadcastRequest(harness.bulletin_id, EAST + WEST, None))
    later = harness.clock.now() + timedelta(hours=1)
    schedule(BroadcastRequest(harness.bulletin_id, EAST + WEST, later))
    yield harness
    harness.runtime.stop()


def test_the_dashboard_asks_about_each_play_by_its_key(h: Harness) -> None:
    now = h.clock.now() + timedelta(minutes=5)
    engine = h.runtime.db.engine
    with h.runtime.db.session() as session:
        reads = reads_of(engine, lambda: today.playing_now(session, SYSTEM, now))
        reads += reads_of(engine, lambda: today.missed_plays(session, SYSTEM, now))
        tz = "Asia/Ho_Chi_Minh"
        reads += reads_of(engine, lambda: today.sessions_today(session, SYSTEM, now, tz))
    assert any("playback_evidence" in statement for statement, _ in reads)
    assert_no_history_walked(engine, reads)


def test_a_bundle_asks_about_each_owed_play_by_its_key(h: Harness) -> None:
    now = h.clock.now() + timedelta(hours=2)
    start, end = now - timedelta(days=1), now
    engine = h.runtime.db.engine
    with h.runtime.db.session() as session:
        reads = reads_of(engine, lambda: build_bundle(session, "w-east", start, end, None, now=now))
    assert any("playback_evidence" in s and "planned_plays" in s for s, _ in reads)
    assert_no_history_walked(engine, reads)


def _events(h: Harness, devices: list[str], first: int, last: int, item: str | None = None) -> None:
    """Evidence rows ``first``..``last`` of each device, as stored (unsigned here);
    ``item``: all confirming that item, else each its own."""
    at = h.clock.now() - timedelta(days=30)
    rows = [
        {
            "device_id": d, "ward_code": "w-east", "event_id": f"{d}-{n}", "seq": n,
            "prev_hash": "0" * 64, "digest": "0" * 64, "item_id": item or f"it-{n}",
            "broadcast_id": item or f"it-{n}", "trigger": "schedule", "priority": "normal",
            "source_level": "ward", "planned_start": at + timedelta(minutes=n),
            "planned_duration_s": 30.0, "played_duration_s": 30.0, "outcome": "completed",
            "amplifier_on": True, "volume": n % 100, "recorded_at": at, "received_at": at,
            "signed": "{}", "sig": "x",
        }
        for d in devices
        for n in range(first, last + 1)
    ]  # fmt: skip
    with h.runtime.db.engine.begin() as conn:
        conn.execute(insert(PlaybackEvidence), rows)


def test_the_device_list_reads_each_devices_last_play_by_one_seek(h: Harness) -> None:
    """The dashboard and the device list show each device's last confirmed play. As a
    max grouped by device, SQLite read every event of every device on each refresh;
    one seek each, the work does not grow with the months."""
    engine = h.runtime.db.engine

    def statuses() -> None:
        with h.runtime.db.session() as session:
            found = device_statuses(
                session, SYSTEM, h.clock.now(), offline_after_s=60, clock_warn_s=5
            )
            assert found[0].volume == volume  # the last play's, read from the latest event

    _events(h, EAST, 1, 20)
    volume = 20
    young = vm_steps(engine, statuses)
    _events(h, EAST, 21, 1000)
    volume = 0  # the 1,000th event's
    old = vm_steps(engine, statuses)
    assert old < 2 * young, (young, old)  # 50x the history; the same work


def test_an_ingest_batch_reads_what_its_devices_hold_by_key(h: Harness) -> None:
    """Each ingest batch reads, for its devices, the events past their chain's prefix and
    any holding the batch's (device, event id) or (device, seq) pairs. As one condition
    with ORs, SQLite read every event each device ever sent, in every batch (226-254 ms
    for 500 devices of 1,000 events each; now ~7 ms)."""
    _events(h, EAST[:2], 1, 40)
    engine = h.runtime.db.engine
    with h.runtime.db.session() as session:
        create_chains(session, EAST[:3], h.clock.now())
        ids = {("east-00", "east-00-7"), ("east-02", "x")}
        seqs = {("east-00", 7), ("east-01", 41)}
        statement = held(session, PlaybackEvidence, EAST[:3], ids, seqs)
        reads = reads_of(engine, lambda: session.execute(statement).all())
        # No chain has moved past 0 here: every stored event is past its prefix.
        assert len(session.execute(statement).all()) == 80
    assert_no_history_walked(engine, reads)
