"""Reading a broadcast costs the same few statements whatever its size, and a list of
broadcasts carries their counts, not their devices.

A ward's broadcast reaches a thousand loudspeakers; its API answer (sent right after
the command goes out, sharing the controller's CPU with the ingest of their first
states) and its console page (polled while it plays) read its targets and evidence as
plain rows in a fixed number of statements, and never load a thousand ORM objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update

from controller.api.app import create_app
from controller.api.routes.broadcasts import to_public
from controller.db.models import Broadcast, BroadcastTarget
from controller.domain.actors import SYSTEM, Actor, Role
from controller.domain.broadcasts.progress import progress_of, tally_of
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.devices.service import register_device
from controller.domain.places import service as places
from tests.support.auth import auth_headers as admin_headers
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import DeviceState, Kind, Outcome
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DeviceChannel


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "p", "Province")
        places.upsert_district(session, "d", "p", "District")
        for ward in ("w1", "w2"):
            places.upsert_ward(session, ward, "d", ward, "Asia/Ho_Chi_Minh")
        for n in range(40):
            device_id = f"many-{n:02d}"
            key = harness.device_keys[device_id] = SigningKey.generate()
            register_device(session, device_id, device_id, key.public_key_b64, harness.clock.now())
            places.place_device(session, device_id, "w1" if n % 2 else "w2", None)
    yield harness
    harness.runtime.stop()


def _read(h: Harness, broadcast_id: str, actor: Actor) -> tuple[int, int, dict[str, Any]]:
    """Statements run and BroadcastTarget objects loaded by the API's read, its answer."""
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(h.runtime.db.engine, "before_cursor_execute", note)
    try:
        with h.runtime.db.session() as session:
            broadcast = session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            answer = to_public(session, broadcast, actor, h.clock).model_dump()
            loaded = sum(isinstance(o, BroadcastTarget) for o in session.identity_map.values())
    finally:
        event.remove(h.runtime.db.engine, "before_cursor_execute", note)
    return len(statements), loaded, answer


def test_a_broadcast_to_forty_reads_in_the_statements_of_one_to_two(h: Harness) -> None:
    few = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], None))
    many_ids = [f"many-{n:02d}" for n in range(40)]
    many = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", many_ids, None))
    few_statements, few_loaded, few_answer = _read(h, few.id, SYSTEM)
    many_statements, many_loaded, many_answer = _read(h, many.id, SYSTEM)
    assert many_statements == few_statements
    assert few_loaded == many_loaded == 0
    assert [t["device_id"] for t in many_answer["targets"]] == sorted(many_ids)
    assert many_answer["target"]["device_ids"] == sorted(many_ids)
    assert few_answer["state_counts"] == {"playing": 2}  # a "now", within its clip's length


def test_a_ward_officer_reads_only_the_devices_of_their_ward(h: Harness) -> None:
    many_ids = [f"many-{n:02d}" for n in range(40)]
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", many_ids, None))
    officer = Actor("officer-w1", frozenset({Role.OFFICER}), frozenset({"w1"}))
    statements, loaded, answer = _read(h, broadcast.id, officer)
    listed = [t["device_id"] for t in answer["targets"]]
    assert listed == [d for d in sorted(many_ids) if int(d[-2:]) % 2]
    assert all(t["ward_code"] == "w1" for t in answer["targets"])
    assert answer["target"]["device_ids"] == listed
    # The status counts every device, the list only the reader's.
    assert answer["status"] == "playing" and loaded == 0 and statements <= 6


def test_the_list_gives_each_broadcast_its_counts_and_the_detail_its_devices(
    h: Harness,
) -> None:
    many_ids = [f"many-{n:02d}" for n in range(40)]
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", many_ids, None))
    h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], None))
    with TestClient(create_app(runtime=h.runtime), headers=admin_headers(h.runtime)) as api:
        listed = api.get("/api/v1/broadcasts")
        detail = api.get(f"/api/v1/broadcasts/{broadcast.id}")
    assert listed.status_code == 200 and detail.status_code == 200
    rows = {row["id"]: row for row in listed.json()}
    # A list of a ward's broadcasts does not carry each one's thousand devices.
    assert all("targets" not in row for row in rows.values())
    row = rows[broadcast.id]
    assert row["target_count"] == 40 and row["state_counts"] == {"playing": 40}
    assert row["target"]["device_ids"] == sorted(many_ids)
    full = detail.json()
    assert len(full["targets"]) == full["target_count"] == 40
    assert {k: v for k, v in full.items() if k != "targets"} == row


def _tally_and_progress(
    h: Harness, broadcast_id: str, reader: Actor | None
) -> tuple[tuple[str, dict[str, int], int], tuple[str, dict[str, int], int]]:
    with h.runtime.db.session() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        tally = tally_of(session, broadcast, h.clock.now(), reader=reader)
        progress = progress_of(session, broadcast, h.clock.now(), reader=reader)
    return (
        (tally.status.value, tally.counts, tally.target_count),
        (progress.status.value, progress.counts(), len(progress.targets)),
    )


def test_a_lists_tally_agrees_with_the_progress_device_by_device(h: Harness) -> None:
    # The list's grouped counts stand for the detail's row-by-row judgement: confirmed
    # (completed, failed), sounding, silent devices, two wards, as the clock moves on.
    many_ids = [f"many-{n:02d}" for n in range(40)]
    now_bc = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", many_ids, None))
    for n, device_id in enumerate(many_ids[:10]):
        event = h.event(
            device_id,
            event_id=f"ev-{device_id}",
            item_id=now_bc.id,
            broadcast_id=now_bc.id,
            planned_start=now_bc.planned_start,
            outcome=Outcome.COMPLETED if n % 3 else Outcome.FAILED,
        )
        h.device_sends(device_id, DeviceChannel.EVENT, Kind.EVENT, event)
    for device_id in many_ids[10:20]:
        state = DeviceState(device_time=h.clock.now(), playing_item_id=now_bc.id)
        h.device_sends(device_id, DeviceChannel.STATE, Kind.STATE, state)
    later = h.runtime.broadcasts.schedule(
        BroadcastRequest("bul-1", many_ids, h.clock.now() + timedelta(hours=1))
    )
    with h.runtime.db.session() as session:
        session.execute(
            update(BroadcastTarget)
            .where(BroadcastTarget.broadcast_id == later.id)
            .where(BroadcastTarget.device_id.in_(many_ids[::3]))
            .values(received_at=h.clock.now())
        )
    officer = Actor("officer-w1", frozenset({Role.OFFICER}), frozenset({"w1"}))
    seen = set()
    # Now, 30 s in, past the now's confirmation window, past the later one's start and end.
    for step_s in (0, 30, 600, 3600, 600):
        asyncio.run(h.clock.advance(step_s))
        for broadcast_id in (now_bc.id, later.id):
            for reader in (None, officer):
                tally, progress = _tally_and_progress(h, broadcast_id, reader)
                assert tally == progress, (broadcast_id, reader, step_s)
                seen.add(tally[0])
                seen.update(tally[1])
    # The comparison crossed the states that matter, not just one.
    assert {"completed", "failed", "playing", "received", "scheduled", "awaiting"} <= seen
