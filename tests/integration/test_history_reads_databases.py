"""The reads rewritten so that they do not walk each device's history (the last play a
device, a compile's broadcasts ahead, what a bundle lists as missed) answer the same on
SQLite and PostgreSQL. Their plans are checked on SQLite in
``tests/unit/test_history_reads.py``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controller.domain.actors import SYSTEM
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.evidence.bundles.build import build_bundle
from controller.domain.overview.devices import device_statuses
from controller.domain.plans.items import scheduled_items
from tests.unit.controller_support import Harness
from tests.unit.test_history_reads import _events
from tests.unit.test_plan_refresh_batch import EAST, WEST

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
