"""Broadcast targets: a ward, its zones or groups resolve to devices; the spec is kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from controller.db.models import Broadcast, BroadcastTarget, Device
from controller.domain.actors import SYSTEM, Actor, Forbidden, Role
from controller.domain.broadcasts.milestones import note_plan_held
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.broadcasts.targets import TargetSpec, resolve_targets
from controller.domain.devices.service import register_device
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.places import service as places
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.signing import SigningKey

WARD = "26734"
OTHER = "26735"


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    now = harness.clock.now()
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "01", "Hà Nội")
        session.flush()
        places.upsert_district(session, "002", "01", "Hoàn Kiếm")
        session.flush()
        places.upsert_ward(session, WARD, "002", "Hàng Bạc", "Asia/Ho_Chi_Minh")
        places.upsert_ward(session, OTHER, "002", "Hàng Buồm", "Asia/Ho_Chi_Minh")
        session.flush()
        for group in ("tdp-1", "tdp-2", "tdp-3", "tdp-4"):
            places.upsert_group(session, WARD, group, group)
        places.upsert_group(session, OTHER, "tdp-1", "Tổ 1")
        session.flush()
        places.upsert_zone(session, WARD, "ven-song", "Ven sông", ["tdp-1", "tdp-2"])
        for device_id, ward, group in (
            ("to-1", WARD, "tdp-1"),
            ("to-2", WARD, "tdp-2"),
            ("to-3", WARD, "tdp-3"),
            ("to-b", OTHER, "tdp-1"),
        ):
            if device_id not in ("to-1", "to-2"):  # the harness registered those
                key = SigningKey.generate().public_key_b64
                register_device(session, device_id, device_id, key, now)
            places.place_device(session, device_id, ward, group)
    yield harness
    harness.runtime.stop()


def _schedule(h: Harness, spec: TargetSpec, actor: Actor | None = None) -> Broadcast:
    start = h.clock.now() + timedelta(hours=1)
    request = BroadcastRequest("bul-1", [], start, target=spec)
    if actor is None:
        return h.runtime.broadcasts.schedule(request)
    return h.runtime.broadcasts.schedule(request, actor)


def _devices(h: Harness, broadcast: Broadcast) -> list[str]:
    with h.runtime.db.session() as session:
        stored = session.get(Broadcast, broadcast.id)
        assert stored is not None
        return sorted(t.device_id for t in stored.targets)


@pytest.mark.parametrize(
    ("spec", "devices"),
    [
        (TargetSpec(WARD), ["to-1", "to-2", "to-3"]),
        (TargetSpec(WARD, zones=["ven-song"]), ["to-1", "to-2"]),
        (TargetSpec(WARD, group_codes=["tdp-3"]), ["to-3"]),
        (TargetSpec(WARD, zones=["ven-song"], group_codes=["tdp-3"]), ["to-1", "to-2", "to-3"]),
        (TargetSpec(WARD, zones=["all"]), ["to-1", "to-2", "to-3"]),
        (TargetSpec(WARD, group_codes=["tdp-3"], device_ids=["to-b"]), ["to-3", "to-b"]),
    ],
)
def test_places_resolve_to_the_devices_placed_there(
    h: Harness, spec: TargetSpec, devices: list[str]
) -> None:
    broadcast = _schedule(h, spec)
    assert _devices(h, broadcast) == devices
    with h.runtime.db.session() as session:
        stored = session.get(Broadcast, broadcast.id)
        assert stored is not None
        assert stored.target_spec == spec.as_record()


@pytest.mark.parametrize(
    ("spec", "error", "words"),
    [
        (TargetSpec(WARD, zones=["nui"]), InvalidInput, "unknown zones in ward 26734: nui"),
        (TargetSpec(WARD, group_codes=["tdp-9"]), InvalidInput, "unknown residential groups"),
        (TargetSpec(zones=["ven-song"]), InvalidInput, "need the ward"),
        (TargetSpec(WARD, group_codes=["tdp-4"]), InvalidInput, "no device is placed"),
        (TargetSpec("99999"), NotFound, "no ward"),
        (TargetSpec(), InvalidInput, "choose at least one device"),
    ],
)
def test_bad_targets_are_refused_and_nothing_is_stored(
    h: Harness, spec: TargetSpec, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        _schedule(h, spec)
    with h.runtime.db.session() as session:
        assert session.query(Broadcast).count() == 0


def test_an_officer_may_target_only_their_own_wards(h: Harness) -> None:
    officer = Actor("can-bo", frozenset({Role.OFFICER}), frozenset({OTHER}))
    with pytest.raises(Forbidden, match="ward 26734"):
        _schedule(h, TargetSpec(WARD), officer)
    with pytest.raises(Forbidden):
        _schedule(h, TargetSpec(OTHER, device_ids=["to-1"]), officer)
    assert _devices(h, _schedule(h, TargetSpec(OTHER), officer)) == ["to-b"]


def test_a_device_back_after_days_has_not_received_old_broadcasts(h: Harness) -> None:
    broadcast = _schedule(h, TargetSpec(device_ids=["to-1"]))
    with h.runtime.db.session() as session:
        later = h.clock.now() + timedelta(days=2)
        assert note_plan_held(session, "to-1", later) == 0
        assert note_plan_held(session, "to-1", h.clock.now()) == 1
        target = session.get(BroadcastTarget, (broadcast.id, "to-1"))
        assert target is not None and target.received_at == h.clock.now()


@pytest.mark.parametrize(
    "spec",
    [
        TargetSpec(device_ids=("to-3", "to-1", "to-b", "to-1")),
        TargetSpec(WARD, ("ven-song",)),
        TargetSpec(WARD, (), ("tdp-3",)),
        TargetSpec(WARD),
    ],
)
def test_targets_resolve_to_places_read_as_rows_not_devices(h: Harness, spec: TargetSpec) -> None:
    # A "now" to a thousand loudspeakers waits on this read: three columns per device,
    # no ORM object each, and the same places the devices have.
    with h.runtime.db.session() as session:
        placed = resolve_targets(session, spec, SYSTEM)
        assert not any(isinstance(o, Device) for o in session.identity_map.values())
        assert [p.id for p in placed] == sorted({p.id for p in placed})
        for p in placed:
            device = session.get(Device, p.id)
            assert device is not None
            assert (p.ward_code, p.group_code) == (device.ward_code, device.group_code)
    if spec.device_ids:
        assert [p.id for p in placed] == ["to-1", "to-3", "to-b"]
    elif spec.group_codes:
        assert [p.id for p in placed] == ["to-3"]
    elif spec.zones:
        assert [p.id for p in placed] == ["to-1", "to-2"]
    else:
        assert [p.id for p in placed] == ["to-1", "to-2", "to-3"]
