"""Programme compilation: sessions become plan items, per zone, in the ward's zone, stably.

Fake clock: 2026-11-22 05:00 UTC is Sunday 12:00 in Hà Nội; the 48 h horizon holds
Monday's and Tuesday's sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from controller.db.models import Bulletin, MediaAsset
from controller.domain.actors import EVERYONE, Actor
from controller.domain.errors import InvalidInput
from controller.domain.places import service as places
from controller.domain.programmes.schema import BulletinsItem, FixedBulletinItem, ProgrammeDoc
from controller.domain.programmes.service import ProgrammeRefused, queue_bulletin, save_programme
from tests.unit.controller_support import CHIME, SHA, Harness, make_harness
from wardcast_protocol.messages import Kind, Plan, Priority, RelaySpec, Trigger
from wardcast_protocol.topics import DeviceChannel

ADMIN = Actor("admin", EVERYONE)
WARD = "00037"


def programme(**rules: object) -> ProgrammeDoc:
    return ProgrammeDoc.model_validate(
        {
            "ward": WARD,
            "name": "Chương trình Hàng Bạc",
            "timezone": "Asia/Ho_Chi_Minh",
            "rules": {"max_session_minutes": 15, **rules},
            "sessions": [
                {
                    "code": "sang",
                    "name": "Buổi sáng",
                    "zones": ["ven-song"],
                    "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                    "start": "06:30",
                    "rundown": [
                        {"kind": "chime", "which": "opening"},
                        {"kind": "bulletins", "max_minutes": 10},
                        {"kind": "chime", "which": "closing"},
                    ],
                },
                {
                    "code": "chieu",
                    "name": "Buổi chiều",
                    "zones": ["all"],
                    "rrule": "FREQ=DAILY",
                    "start": "17:00",
                    "rundown": [
                        {"kind": "chime", "which": "opening"},
                        {
                            "kind": "relay",
                            "station": "VOV1",
                            "source_level": "central",
                            "url": "https://stream.example.vn/vov1.mp3",
                            "minutes": 10,
                            "fallback_bulletin": "bul-1",
                        },
                        {"kind": "chime", "which": "closing"},
                    ],
                },
            ],
        }
    )


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "01", "Hà Nội")
        session.flush()
        places.upsert_district(session, "002", "01", "Hoàn Kiếm")
        session.flush()
        places.upsert_ward(session, WARD, "002", "Hàng Bạc", "Asia/Ho_Chi_Minh")
        session.flush()
        places.upsert_group(session, WARD, "tdp-1", "Tổ 1")
        places.upsert_group(session, WARD, "tdp-2", "Tổ 2")
        places.upsert_zone(session, WARD, "ven-song", "Ven sông", ["tdp-1"])
        places.place_device(session, "to-1", WARD, "tdp-1")
        places.place_device(session, "to-2", WARD, "tdp-2")
        for n, priority in ((2, "normal"), (3, "priority")):
            sha = f"{n:02d}" * 32
            session.add(
                MediaAsset(
                    sha256=sha,
                    size_bytes=500,
                    duration_s=60.0,
                    content_type="audio/ogg",
                    extension="ogg",
                    created_at=harness.clock.now(),
                )
            )
            session.add(
                Bulletin(
                    id=f"bul-{n}",
                    title=f"Bản tin {n}",
                    origin="text",
                    media_sha256=sha,
                    created_at=harness.clock.now(),
                    status="approved",
                    priority=priority,
                )
            )
    yield harness
    harness.runtime.stop()


def _save(h: Harness, doc: ProgrammeDoc) -> None:
    with h.runtime.db.session() as session:
        save_programme(session, WARD, doc, ADMIN, h.clock.now())
    h.runtime.plans.recompile()


def _plan(h: Harness, device_id: str) -> Plan:
    published = h.published(device_id, DeviceChannel.PLAN)
    plan = h.open(published[-1].payload, Kind.PLAN).body
    assert isinstance(plan, Plan)
    return plan


def test_sessions_reach_only_their_zones_at_local_time(h: Harness) -> None:
    _save(h, programme())
    with h.runtime.db.session() as session:
        queue_bulletin(
            session, WARD, "sang", "bul-2", date(2026, 11, 23), date(2026, 11, 23),
            ADMIN, h.clock.now(),
        )  # fmt: skip
    h.runtime.plans.recompile()
    near = _plan(h, "to-1")
    far = _plan(h, "to-2")
    keys_near = {i.session_key for i in near.items}
    keys_far = {i.session_key for i in far.items}
    assert f"{WARD}:sang:2026-11-23" in keys_near  # Monday morning, zone ven-song
    assert not any(":sang:" in (k or "") for k in keys_far)  # tdp-2 is not in ven-song
    assert f"{WARD}:chieu:2026-11-22" in keys_far and f"{WARD}:chieu:2026-11-22" in keys_near
    monday = [i for i in near.items if i.session_key == f"{WARD}:sang:2026-11-23"]
    # 06:30 in Hà Nội is 23:30 UTC the day before.
    assert monday[0].planned_start == datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert all(i.trigger is Trigger.PROGRAMME for i in near.items)


def test_a_relay_item_carries_its_stream_and_fallback(h: Harness) -> None:
    _save(h, programme())
    relay = next(i for i in _plan(h, "to-2").items if i.relay is not None)
    assert relay.relay is not None
    assert relay.relay.url == "https://stream.example.vn/vov1.mp3"
    assert relay.relay.window_s == 600
    assert relay.media.sha256 == SHA  # bul-1 is the fallback
    assert relay.source_level.value == "central"
    chime = next(i for i in _plan(h, "to-2").items if i.media.sha256 == CHIME)
    assert relay.planned_start == chime.planned_start + timedelta(seconds=1.25 + 1.0)


def test_queued_bulletins_play_priority_first_within_the_block(h: Harness) -> None:
    _save(h, programme())
    with h.runtime.db.session() as session:
        for bulletin_id in ("bul-2", "bul-3"):  # the priority one is queued second
            queue_bulletin(
                session, WARD, "sang", bulletin_id, date(2026, 11, 23), date(2026, 11, 23),
                ADMIN, h.clock.now(),
            )  # fmt: skip
    h.runtime.plans.recompile()
    monday = [i for i in _plan(h, "to-1").items if i.session_key == f"{WARD}:sang:2026-11-23"]
    assert [i.bulletin_id for i in monday if i.bulletin_id] == ["bul-3", "bul-2"]
    assert monday[1].priority is Priority.PRIORITY
    tuesday = [i for i in _plan(h, "to-1").items if i.session_key == f"{WARD}:sang:2026-11-24"]
    assert [i.bulletin_id for i in tuesday if i.bulletin_id] == []  # queued for Monday only


def test_what_does_not_fit_the_block_is_left_out_and_noted(h: Harness) -> None:
    doc = programme()
    assert isinstance(doc.sessions[0].rundown[1], BulletinsItem)
    doc.sessions[0].rundown[1].max_minutes = 1.5
    _save(h, doc)
    with h.runtime.db.session() as session:
        for bulletin_id in ("bul-2", "bul-3"):
            queue_bulletin(
                session, WARD, "sang", bulletin_id, date(2026, 11, 23), date(2026, 11, 27),
                ADMIN, h.clock.now(),
            )  # fmt: skip
    h.runtime.plans.recompile()
    monday = [i for i in _plan(h, "to-1").items if i.session_key == f"{WARD}:sang:2026-11-23"]
    assert [i.bulletin_id for i in monday if i.bulletin_id] == ["bul-3"]
    assert any("bul-2 over the block" in note for note in h.runtime.plans.notes)


def test_recompiling_unchanged_content_changes_nothing_and_ids_are_stable(
    h: Harness, tmp_path: Path
) -> None:
    _save(h, programme())
    first = _plan(h, "to-1")
    published = len(h.broker.log)
    assert h.runtime.plans.recompile() == 0
    assert len(h.broker.log) == published  # nothing new to say
    # A new queue entry changes the plan: the version moves, untouched items keep ids.
    with h.runtime.db.session() as session:
        queue_bulletin(
            session, WARD, "sang", "bul-2", date(2026, 11, 23), date(2026, 11, 23),
            ADMIN, h.clock.now(),
        )  # fmt: skip
    h.runtime.plans.recompile()
    second = _plan(h, "to-1")
    assert second.version == first.version + 1
    old = {i.item_id for i in first.items}
    assert old <= {i.item_id for i in second.items}


def test_the_horizon_rolls_with_the_clock(h: Harness) -> None:
    _save(h, programme())
    # Sunday 12:00 local + 48 h reaches Tuesday 12:00: Tuesday's 17:00 is not yet in.
    before = {i.session_key for i in _plan(h, "to-2").items}
    assert f"{WARD}:chieu:2026-11-23" in before
    assert f"{WARD}:chieu:2026-11-24" not in before
    h.clock._now += timedelta(days=1)  # a day passes (the scheduler recompiles)
    h.runtime.plans.recompile()
    after = {i.session_key for i in _plan(h, "to-2").items}
    assert f"{WARD}:chieu:2026-11-24" in after


def test_a_programme_with_conflicts_is_refused_whole(h: Harness) -> None:
    _save(h, programme())
    bad = programme()
    bad.sessions[1].zones = ["nowhere"]
    with pytest.raises(ProgrammeRefused) as refused, h.runtime.db.session() as session:
        save_programme(session, WARD, bad, ADMIN, h.clock.now())
    assert [c.code for c in refused.value.conflicts] == ["unknown_zone"]
    with h.runtime.db.session() as session:
        from controller.domain.programmes.service import current_programme

        stored = current_programme(session, WARD)
    assert stored is not None and stored[1] == programme()


def test_a_restarted_controller_compiles_the_same_plans(h: Harness) -> None:
    """What kill -9 and a restart leave: the database. Recompiling from it changes nothing."""
    from controller.composition import ControllerRuntime

    _save(h, programme())
    before = _plan(h, "to-1")
    published = len(h.broker.log)
    h.runtime.stop()
    again = ControllerRuntime(
        h.runtime.settings,
        clock=h.clock,
        transport=h.broker.link("controller-2"),
        run_maintenance=False,
        prepare_chime=False,
    )
    again.plans.set_chime(CHIME)
    again.start()  # recompiles at start
    try:
        assert again.plans.recompile() == 0
        assert len(h.broker.log) == published  # not even a version bump
        with again.db.session() as session:
            plan = again.plans.current(session, "to-1", h.clock.now())
        assert plan is not None
        assert plan.version == before.version
        assert [i.item_id for i in plan.items] == [i.item_id for i in before.items]
    finally:
        again.stop()


def test_a_session_with_nothing_queued_is_not_aired_as_bare_chimes(h: Harness) -> None:
    _save(h, programme())
    keys = {i.session_key for i in _plan(h, "to-1").items}
    assert f"{WARD}:sang:2026-11-23" not in keys  # nothing queued for Monday morning
    assert any("nothing to air" in note for note in h.runtime.plans.notes)


def test_relay_tuning_flows_from_the_ward_and_the_item_into_the_relay_spec(h: Harness) -> None:
    doc = programme(relay_defaults={"prebuffer_s": 8, "dead_after_s": 15})
    relay_entry = doc.sessions[1].rundown[1]
    tuned = relay_entry.model_copy(update={"silence_db": -45.0, "dead_after_s": 20.0})
    doc.sessions[1].rundown[1] = tuned
    _save(h, ProgrammeDoc.model_validate(doc.model_dump()))
    relay = next(i for i in _plan(h, "to-2").items if i.relay is not None)
    assert relay.relay is not None
    # The item's own values win; the ward's fill the rest.
    assert (relay.relay.prebuffer_s, relay.relay.dead_after_s, relay.relay.silence_db) == (
        8,
        20,
        -45,
    )


def test_an_untuned_relay_gets_the_protocol_defaults(h: Harness) -> None:
    _save(h, programme())
    relay = next(i for i in _plan(h, "to-2").items if i.relay is not None)
    assert relay.relay is not None
    defaults = RelaySpec(url=relay.relay.url, window_s=relay.relay.window_s)
    assert relay.relay == defaults.model_copy(update={"station": "VOV1"})


def test_a_queue_entry_for_a_day_already_over_is_refused(h: Harness) -> None:
    """A past day would be stored and never aired: refused, saying what today is there."""
    _save(h, programme())
    today = h.clock.now().astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    with h.runtime.db.session() as session:
        with pytest.raises(InvalidInput, match=f"today is {today.isoformat()}"):
            queue_bulletin(
                session, WARD, "sang", "bul-2", today - timedelta(days=1), today, ADMIN,
                h.clock.now(),
            )  # fmt: skip
        entry = queue_bulletin(session, WARD, "sang", "bul-2", today, today, ADMIN, h.clock.now())
        assert entry.first_date == today


def test_programmes_and_queues_name_a_bulletin_by_its_code(h: Harness) -> None:
    """The code people gave a bulletin stands for it: in a fixed item and in the queue."""
    with h.runtime.db.session() as session:
        bulletin = session.get(Bulletin, "bul-2")
        assert bulletin is not None
        bulletin.code, bulletin.ward_code = "cat-nuoc", WARD
    doc = programme()
    doc.sessions[0].rundown.append(FixedBulletinItem(kind="bulletin", bulletin_id="cat-nuoc"))
    _save(h, doc)
    today = h.clock.now().astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    with h.runtime.db.session() as session:
        entry = queue_bulletin(
            session, WARD, "chieu", "cat-nuoc", today, today, ADMIN, h.clock.now()
        )
        assert entry.bulletin_id == "bul-2"  # stored by id: a later code change moves nothing
    h.runtime.plans.recompile()
    assert any(i.bulletin_id == "bul-2" for i in _plan(h, "to-1").items)
