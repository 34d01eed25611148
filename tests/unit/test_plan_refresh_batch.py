"""Plans of many devices are recompiled together: a few statements whatever their
number, and the same plans and planned plays as one device at a time.

A ward's thousand loudspeakers all change plan when a broadcast is scheduled to the
ward or a bulletin is queued into its programme. Read and written one device at a time
(and one statement per item not yet planned), that cost 2-5 s of the officer's request
with the database's write lock held; see docs/scale.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, insert, select, update

from controller.db.models import Broadcast, BroadcastTarget, Device, PlannedPlay, PlanSnapshot
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.devices.service import register_device
from controller.domain.places import service as places
from controller.domain.plans.items import PlanDigests, scheduled_items
from controller.domain.plans.planned import record_plans
from tests.support.query_plans import assert_no_history_walked, reads_of, vm_steps
from tests.unit.controller_support import SHA, Harness, make_harness
from wardcast_protocol.messages import (
    Kind,
    MediaRef,
    Plan,
    PlanItem,
    Priority,
    SourceLevel,
    Trigger,
)
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel

EAST = [f"east-{n:02d}" for n in range(20)]
WEST = [f"west-{n:02d}" for n in range(20)]


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    place_wards(harness)
    yield harness
    harness.runtime.stop()


def place_wards(harness: Harness) -> None:
    """Two wards of twenty devices: EAST and WEST."""
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "p", "Province")
        places.upsert_district(session, "d", "p", "District")
        for ward, devices in (("w-east", EAST), ("w-west", WEST)):
            places.upsert_ward(session, ward, "d", ward, "Asia/Ho_Chi_Minh")
            for device_id in devices:
                key = SigningKey.generate().public_key_b64
                register_device(session, device_id, device_id, key, harness.clock.now())
                places.place_device(session, device_id, ward, None)


def _statements(h: Harness, action: Any) -> int:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(h.runtime.db.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(h.runtime.db.engine, "before_cursor_execute", note)
    return len(seen)


def _later(h: Harness, devices: list[str], hours: int) -> str:
    at = h.clock.now() + timedelta(hours=hours)
    return h.runtime.broadcasts.schedule(BroadcastRequest(h.bulletin_id, devices, at)).id


def test_scheduling_to_twenty_devices_runs_the_statements_of_two(h: Harness) -> None:
    # Each device already has a plan and planned plays, so rows are read, kept and added.
    _later(h, EAST + WEST, 1)
    few = _statements(h, lambda: _later(h, EAST[:2], 2))
    many = _statements(h, lambda: _later(h, WEST, 2))
    assert many == few
    for device_id in WEST:
        latest = h.published(device_id, DeviceChannel.PLAN)[-1]
        plan = h.open(latest.payload, Kind.PLAN).body
        assert isinstance(plan, Plan) and plan.version == 2 and len(plan.items) == 2


def test_no_read_of_a_refresh_walks_a_devices_history(h: Harness) -> None:
    """What a compile reads is found by key or by what lies ahead, never by walking
    every play or broadcast a device ever had: those grow with the months, and SQLite
    took them (``bench.plans --history 1000``: scheduling to 1,000 devices with 1,000
    past plays each took 1.8-2.3 s where a new database took 0.7 s).

    Plans with items not planned ahead look them up among past plays: given
    ``planned_start < now`` too, SQLite chose each device's every past play by (device,
    start) once a plan brought several new items. A device's scheduled broadcasts,
    joined from the device, were found through every broadcast it was ever sent."""
    for hours in (1, 2):
        _later(h, EAST + WEST, hours)
    h.runtime.broadcasts.schedule(BroadcastRequest(h.bulletin_id, EAST + WEST, None))  # a "now"
    devices: list[Device] = []
    with h.runtime.db.session() as session:
        for device_id in WEST:
            device = session.get(Device, device_id)
            assert device is not None
            devices.append(device)
        # A day's programme of new items on every device: twenty lookups a device.
        items = [_item(h, f"day-{n}", 1 + n / 10) for n in range(20)]
        now = h.clock.now()
        reads = reads_of(
            h.runtime.db.engine, lambda: record_plans(session, [(d, items) for d in devices], now)
        )
        session.commit()
    assert len(reads) == 2  # what lies ahead, and the new items among the past
    compile_reads = reads_of(h.runtime.db.engine, lambda: _later(h, WEST, 3))
    assert any("broadcast_targets" in statement for statement, _ in compile_reads)
    assert_no_history_walked(h.runtime.db.engine, reads + compile_reads)


def _ahead_elsewhere(h: Harness, count: int, first: int) -> None:
    """``count`` broadcasts for later to the west ward, as rows (as a nation's other
    wards would have them), numbered from ``first``."""
    now = h.clock.now()
    broadcasts, targets = (cast(Table, m.__table__) for m in (Broadcast, BroadcastTarget))
    ids = [f"elsewhere-{n}" for n in range(first, first + count)]
    at = [now + timedelta(hours=1, minutes=n) for n in range(first, first + count)]
    with h.runtime.db.engine.begin() as conn:
        conn.execute(insert(broadcasts), [
            {"id": i, "bulletin_id": h.bulletin_id, "trigger": "manual", "priority": "normal",
             "planned_start": t, "immediate": False, "status": "scheduled", "created_at": now}
            for i, t in zip(ids, at, strict=True)
        ])  # fmt: skip
        conn.execute(insert(targets), [
            {"broadcast_id": i, "device_id": d, "planned_start": t}
            for i, t in zip(ids, at, strict=True)
            for d in WEST
        ])  # fmt: skip


def test_a_compile_reads_no_other_wards_broadcasts_ahead(h: Harness) -> None:
    """A ward's compile finds its devices' broadcasts ahead by device and time. Read
    from every broadcast ahead, it read every other ward's too: on one controller for
    a nation, each compile grew with the nation (3,000 broadcasts ahead elsewhere: 134
    ms for a ward of 20 devices; migration 0022)."""
    mine = _later(h, EAST[:3], 2)
    cancelled = _later(h, EAST[:2], 3)
    h.runtime.broadcasts.cancel(cancelled)
    now = h.clock.now()

    def compile_east() -> None:
        with h.runtime.db.session() as session:
            found = scheduled_items(session, EAST, now, h.runtime.plans.media_urls(now))
        assert {d: [i.item_id for i in items] for d, items in found.items()} == {
            d: [mine] for d in EAST[:3]
        }

    _ahead_elsewhere(h, 5, 0)
    few = vm_steps(h.runtime.db.engine, compile_east)
    _ahead_elsewhere(h, 200, 5)
    many = vm_steps(h.runtime.db.engine, compile_east)
    assert many < 1.5 * few, (few, many)  # 40x the broadcasts ahead elsewhere; the same work


def test_what_a_device_back_online_is_owed_is_found_by_key(h: Harness) -> None:
    """A device back online is sent the "now"s in force it did not confirm: found among
    the targets of those broadcasts, not through every broadcast it was ever sent."""
    for _ in range(3):
        h.runtime.broadcasts.schedule(BroadcastRequest(h.bulletin_id, EAST + WEST, None))
    reads = reads_of(h.runtime.db.engine, lambda: h.runtime.broadcasts.resend_owed(WEST[:5]))
    assert any("broadcast_targets" in statement for statement, _ in reads)
    assert_no_history_walked(h.runtime.db.engine, reads)


def _planned(h: Harness, device_id: str) -> list[tuple[Any, ...]]:
    with h.runtime.db.session() as session:
        rows = session.scalars(
            select(PlannedPlay).where(PlannedPlay.device_id == device_id).order_by(PlannedPlay.id)
        )
        return [
            (r.item_id, r.ward_code, r.planned_start, r.withdrawn_at, r.first_planned_at)
            for r in rows
        ]


def _versions(h: Harness, devices: list[str]) -> list[tuple[int, int, str]]:
    with h.runtime.db.session() as session:
        found = []
        for device_id in devices:
            device = session.get(Device, device_id)
            snapshot = session.get(PlanSnapshot, device_id)
            assert device is not None and snapshot is not None
            found.append((device.plan_version, snapshot.item_count, snapshot.content_hash))
        return found


def test_devices_recompiled_together_get_what_each_alone_would(h: Harness) -> None:
    assert_together_is_one_by_one(h)


def assert_together_is_one_by_one(h: Harness) -> None:
    """One ward recompiled in one call, the other a device at a time: the same rows."""
    everyone = EAST + WEST
    kept, dropped = _later(h, everyone, 3), _later(h, everyone, 5)
    # Changed behind the plans' back, then recompiled: one ward in one call, the other
    # a device at a time.
    with h.runtime.db.session() as session:
        session.execute(
            update(Broadcast).where(Broadcast.id == dropped).values(cancelled_at=h.clock.now())
        )
        session.commit()
    assert h.runtime.plans.recompile(EAST) == len(EAST)
    assert sum(h.runtime.plans.recompile([d]) for d in WEST) == len(WEST)
    for east, west in zip(EAST, WEST, strict=True):
        rows, others = _planned(h, east), _planned(h, west)
        assert {r[1] for r in rows} == {"w-east"} and {r[1] for r in others} == {"w-west"}
        assert [r[:1] + r[2:] for r in rows] == [r[:1] + r[2:] for r in others]
        assert [(item, withdrawn is not None) for item, _, _, withdrawn, _ in rows] == [
            (kept, False),
            (dropped, True),
        ]
    # The same plans: versions, sizes and content (a ward's name is in the digest).
    assert [v[:2] for v in _versions(h, EAST)] == [v[:2] for v in _versions(h, WEST)]
    assert len({v[2] for v in _versions(h, EAST)}) == 1
    assert h.runtime.plans.recompile(everyone) == 0  # nothing new: nothing bumped


def _item(h: Harness, item_id: str, hours: float, title: str = "Thông báo") -> PlanItem:
    return PlanItem(
        item_id=item_id,
        broadcast_id=item_id,
        bulletin_id=h.bulletin_id,
        title=title,
        media=MediaRef(sha256=SHA, url="http://x/m.ogg", duration_s=12.0, size_bytes=1234),
        planned_start=h.clock.now() + timedelta(hours=hours),
        priority=Priority.NORMAL,
        source_level=SourceLevel.COMMUNE,
        trigger=Trigger.MANUAL,
    )


def test_an_item_twice_in_a_plan_and_one_planned_before_keep_one_row_each(h: Harness) -> None:
    assert_one_row_an_item(h)


def assert_one_row_an_item(h: Harness) -> None:
    """An item twice in a plan is one row; one planned before keeps its row."""
    now = h.clock.now()
    with h.runtime.db.session() as session:
        device = session.get(Device, EAST[0])
        assert device is not None
        # Planned an hour ago for ten minutes ago: its row is in the past now.
        record_plans(session, [(device, [_item(h, "it-past", -1 / 6)])], now - timedelta(hours=1))
        session.commit()
        twice = [_item(h, "it-twice", 1), _item(h, "it-twice", 2)]
        record_plans(session, [(device, [*twice, _item(h, "it-past", 3)])], now)
        session.commit()
    rows = _planned(h, EAST[0])
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        # Moved ahead again: the same row, first planned when it was.
        ("it-past", now + timedelta(hours=3), None, now - timedelta(hours=1)),
        # Twice in one plan: one row, where the later copy puts it.
        ("it-twice", now + timedelta(hours=2), None, now),
    ]


def test_a_plan_digest_is_the_one_earlier_versions_stored(h: Harness) -> None:
    # Stored digests decide whether a plan changed; an upgrade must not bump them all.
    items = [_item(h, "a", 1, "Sơ tán khẩn cấp"), _item(h, "b", 2)]

    def stored(items: list[PlanItem], ward: str | None) -> str:
        dumped: list[Any] = [item.model_dump(mode="json") for item in items]
        if ward is not None:
            dumped.append({"ward_code": ward})
        return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()

    digests = PlanDigests()
    for plan, ward in ((items, "26737"), (items, None), ([], "26737"), ([], None)):
        assert digests.digest(plan, ward) == stored(plan, ward)
    assert digests.digest(items[::-1], None) != digests.digest(items, None)


def test_a_nows_planned_plays_are_marked_commanded(h: Harness) -> None:
    """A "now"'s rows say a command planned them, and stay out of the index by device
    and time (a page a device, among its history, in an emergency's transaction); a
    plan's rows do not (migration 0023)."""
    now = h.runtime.broadcasts.schedule(BroadcastRequest(h.bulletin_id, EAST, None)).id
    later = _later(h, EAST, 1)
    with h.runtime.db.session() as session:
        marked = session.execute(
            select(PlannedPlay.item_id, PlannedPlay.commanded).distinct()
        ).all()
    assert sorted(marked) == sorted([(now, True), (later, False)])
