"""The reads rewritten so that they do not walk each device's history (the last play a
device, a compile's broadcasts ahead, what a bundle lists as missed) answer the same on
SQLite and PostgreSQL. Their plans are checked on SQLite in
``tests/unit/test_history_reads.py``; an ingest batch's read, PostgreSQL's own, is checked
here by the rows PostgreSQL touched."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import case, text, update

from controller.db.models import DeviceChain, PlaybackEvidence
from controller.domain.actors import SYSTEM
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.evidence.batch_store import create_chains, held
from controller.domain.evidence.bundles.build import build_bundle
from controller.domain.overview.devices import device_statuses
from controller.domain.plans.items import scheduled_items
from tests.support.local_postgres import LocalPostgres
from tests.support.query_plans import postgres_rows_examined
from tests.unit.controller_support import Harness, make_harness
from tests.unit.test_history_reads import _events
from tests.unit.test_plan_refresh_batch import EAST, WEST, place_wards

pytestmark = pytest.mark.integration


def test_the_reads_answer_alike_on_each_store(two_wards: Harness) -> None:
    h = two_wards
    _events(h, EAST[:2], 1, 30)
    later = h.clock.now() + timedelta(hours=1)
    ahead = h.runtime.broadcasts.schedule(BroadcastRequest(h.bulletin_id, WEST[:3], later))
    sounded = h.runtime.broadcasts.schedule(BroadcastRequest(h.bulletin_id, EAST[:2], None))
    _events(h, EAST[1:2], 31, 31, item=sounded.id)  # one of the two confirmed it
    now = h.clock.now()
    with h.runtime.db.session() as session:
        statuses = {
            s.device_id: s.volume
            for s in device_statuses(session, SYSTEM, now, offline_after_s=60, clock_warn_s=5)
        }
        # The latest event's volume; a device with no evidence has none.
        assert statuses[EAST[0]] == 30 and statuses[EAST[1]] == 31 and statuses[WEST[0]] is None
        items = scheduled_items(session, [*WEST[:4], EAST[0]], now, h.runtime.plans.media_urls(now))
        assert {d: [i.item_id for i in found] for d, found in items.items()} == {
            d: [ahead.id] for d in WEST[:3]
        }
        end = now + timedelta(hours=2)
        bundle = build_bundle(session, "w-east", now - timedelta(days=1), end, None, now=end)
    planned = bundle["planned"]
    assert planned["due"] == 2  # the "now" on both devices
    assert [p["device_id"] for p in planned["without_evidence"]] == [EAST[0]]


def test_an_ingest_batch_reads_by_key_on_postgresql(
    tmp_path: Path, postgres: LocalPostgres
) -> None:
    """Each ingest batch reads what its devices already hold: the events past their
    chain's prefix and those holding the batch's (device, id) or (device, seq) pairs.
    As one condition with ORs, PostgreSQL scanned every event in every batch (500
    devices of 1,000 events: 131 ms, 4 ms new); now each is a look-up by key.
    SQLite's plan is checked in ``tests/unit/test_history_reads.py``."""
    h = make_harness(
        tmp_path, database_url=postgres.create_database(f"held_{uuid.uuid4().hex[:12]}")
    )
    try:
        place_wards(h)
        devices = EAST[:3]
        _events(h, devices, 1, 400)
        with h.runtime.db.engine.begin() as conn:
            conn.execute(text("ANALYZE playback_evidence"))
        with h.runtime.db.session() as session:
            create_chains(session, devices, h.clock.now())
            # The first two hold a whole prefix; the third's stops at a gap after 390.
            session.execute(
                update(DeviceChain)
                .where(DeviceChain.device_id.in_(devices))
                .values(contiguous_seq=case((DeviceChain.device_id == devices[2], 390), else_=400))
            )
            ids = {(devices[0], f"{devices[0]}-7"), (devices[1], "not-held")}
            seqs = {(devices[0], 7), (devices[1], 401)}
            statement = held(session, PlaybackEvidence, devices, ids, seqs)
            found = {(d, seq) for d, _, seq, _, _ in session.execute(statement)}
            touched, ways = postgres_rows_examined(session, statement, "playback_evidence")
    finally:
        h.runtime.stop()
    past = {(devices[2], seq) for seq in range(391, 401)}
    assert past | {(devices[0], 7)} <= found  # what the batch needs (the caller sorts)
    assert "Seq Scan" not in ways, ways
    # The ten past the gap, and device 0's event 7 found by id and by seq.
    assert touched <= 12, (touched, ways)
