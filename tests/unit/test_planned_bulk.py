"""A "now" to many devices stores its planned plays at once: the rows and report marks
``record_command`` stores device by device, no more and no fewer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from controller.db.models import Device, PlannedPlay
from controller.domain.devices.service import register_device
from controller.domain.places import service as places
from controller.domain.plans.planned import record_command, record_commands
from controller.domain.reports.rollups.dirty import clear, marks
from tests.unit.controller_support import SHA, Harness, make_harness
from wardcast_protocol.messages import MediaRef, PlanItem, Priority, SourceLevel, Trigger
from wardcast_protocol.signing import SigningKey

# Two wards a day apart at this hour (UTC+7 and UTC-5), a device placed in a group,
# one in the other ward and one never placed.
DEVICES = ("to-1", "to-2", "to-3", "to-4")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    place_devices(harness)
    yield harness
    harness.runtime.stop()


def place_devices(harness: Harness) -> None:
    """The two wards, their devices (one in a group, one never placed): see DEVICES."""
    now = harness.clock.now()
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "p1", "Province")
        places.upsert_district(session, "d1", "p1", "District")
        places.upsert_ward(session, "w-east", "d1", "East", "Asia/Ho_Chi_Minh")
        places.upsert_ward(session, "w-west", "d1", "West", "America/Bogota")
        places.upsert_group(session, "w-east", "to-1-grp", "Tổ 1")
        for device_id in ("to-3", "to-4"):
            register_device(
                session, device_id, device_id, SigningKey.generate().public_key_b64, now
            )
        places.place_device(session, "to-1", "w-east", "to-1-grp")
        places.place_device(session, "to-2", "w-east", None)
        places.place_device(session, "to-3", "w-west", None)


def _item(h: Harness, item_id: str) -> PlanItem:
    return PlanItem(
        item_id=item_id,
        broadcast_id=item_id,
        bulletin_id=h.bulletin_id,
        media=MediaRef(sha256=SHA, url="http://x/m.ogg", duration_s=12.0, size_bytes=1234),
        # 23:30 UTC: already the next day in the east, still this one in the west.
        planned_start=h.clock.now().replace(hour=23, minute=30) + timedelta(days=1),
        priority=Priority.EMERGENCY,
        source_level=SourceLevel.DISTRICT,
        trigger=Trigger.EMERGENCY,
    )


def _stored(h: Harness, item_id: str) -> list[dict[str, Any]]:
    """The planned-play rows of ``item_id``, without what differs by nature (id, item)."""
    with h.runtime.db.session() as session:
        rows = session.scalars(
            select(PlannedPlay)
            .where(PlannedPlay.item_id == item_id)
            .order_by(PlannedPlay.device_id)
        )
        skip = {"id", "item_id", "broadcast_id"}
        return [
            {c.key: getattr(row, c.key) for c in PlannedPlay.__table__.columns if c.key not in skip}
            for row in rows
        ]


def _marked_by(h: Harness, item_id: str, bulk: bool) -> set[tuple[str, object]]:
    """Store ``item_id`` for every device one way or the other; the ward-days it marked."""
    with h.runtime.db.session() as session:
        clear(session, marks(session))
    with h.runtime.db.session() as session:
        devices = list(session.scalars(select(Device).order_by(Device.id)))
        assert [d.id for d in devices] == list(DEVICES)
        item, now = _item(h, item_id), h.clock.now()
        if bulk:
            record_commands(session, devices, item, now)
        else:
            for device in devices:
                record_command(session, device, item, now)
    with h.runtime.db.session() as session:
        return {(ward, day) for _, ward, day in marks(session)}


def test_bulk_rows_and_marks_are_record_commands_device_by_device(h: Harness) -> None:
    assert_bulk_is_one_by_one(h)


def assert_bulk_is_one_by_one(h: Harness) -> None:
    """``record_commands`` stores the rows and marks ``record_command`` stores, each
    device's place as the database has it (the bulk path reads it there)."""
    one_by_one = _marked_by(h, "now-a", bulk=False)
    at_once = _marked_by(h, "now-b", bulk=True)
    assert at_once == one_by_one
    assert {ward for ward, _ in at_once} == {"w-east", "w-west"}  # each in its own day
    assert len({day for _, day in at_once}) == 2
    rows = _stored(h, "now-b")
    assert rows == _stored(h, "now-a")
    assert [(r["device_id"], r["ward_code"], r["group_code"]) for r in rows] == [
        ("to-1", "w-east", "to-1-grp"),
        ("to-2", "w-east", None),
        ("to-3", "w-west", None),
        ("to-4", None, None),
    ]
    assert {r["category"] for r in rows} == {"general"}  # the bulletin's, read once


def test_bulk_of_no_device_stores_nothing(h: Harness) -> None:
    with h.runtime.db.session() as session:
        record_commands(session, [], _item(h, "now-c"), h.clock.now())
    assert _stored(h, "now-c") == []
