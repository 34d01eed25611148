"""Orders owed after a restart: which "now"s a starting controller sends again, to whom.

Unexpired, uncancelled immediate broadcasts only, to the devices that neither confirmed
them nor said they started them; each copy is a new command carrying the order's own
expiry (never extended). A controller started again on the same database does it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy.orm import Session

from controller.composition import ControllerRuntime
from controller.db.models import Broadcast
from controller.domain.broadcasts.resend import owed_orders, owed_stops
from controller.domain.broadcasts.service import BroadcastRequest
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.messages import (
    Availability,
    Command,
    DeviceState,
    Kind,
    Plan,
    PlayNow,
    Priority,
    StopItem,
)
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel

DEVICES = ("to-1", "to-2")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def _now(
    h: Harness, priority: Priority = Priority.EMERGENCY, devices: tuple[str, ...] = DEVICES
) -> Broadcast:
    request = BroadcastRequest("bul-1", devices, None, priority)
    return h.runtime.broadcasts.schedule(request)


def _commands(h: Harness, device_id: str) -> list[Command]:
    bodies = [
        h.open(p.payload, Kind.COMMAND).body for p in h.published(device_id, DeviceChannel.COMMAND)
    ]
    return [b for b in bodies if isinstance(b, Command)]


def _owed(h: Harness) -> dict[str, list[str]]:
    with h.runtime.db.session() as session:
        return {o.broadcast.id: sorted(o.targets) for o in owed_orders(session, h.clock.now())}


def _confirm(h: Harness, device_id: str, broadcast: Broadcast) -> None:
    event = h.event(
        device_id,
        event_id=f"ev-{broadcast.id}",
        item_id=broadcast.id,
        broadcast_id=broadcast.id,
        planned_start=broadcast.planned_start,
    )
    h.device_sends(device_id, DeviceChannel.EVENT, Kind.EVENT, event)


def _says_it_plays(h: Harness, device_id: str, broadcast: Broadcast) -> None:
    state = DeviceState(device_time=h.clock.now(), playing_item_id=broadcast.id)
    h.device_sends(device_id, DeviceChannel.STATE, Kind.STATE, state)


def test_only_unexpired_uncancelled_nows_are_owed_to_the_devices_that_said_nothing(
    h: Harness,
) -> None:
    stale = _now(h)
    asyncio.run(h.clock.advance(301))  # past its order's expiry (300 s)
    confirmed = _now(h)
    _confirm(h, "to-1", confirmed)
    started = _now(h, Priority.NORMAL)
    _says_it_plays(h, "to-2", started)
    untouched = _now(h, Priority.NORMAL)
    cancelled = _now(h, Priority.NORMAL)
    h.runtime.broadcasts.cancel(cancelled.id)
    later = h.runtime.broadcasts.schedule(
        BroadcastRequest("bul-1", DEVICES, h.clock.now() + timedelta(minutes=5))
    )
    assert _owed(h) == {
        confirmed.id: ["to-2"],  # to-1 confirmed it
        started.id: ["to-1"],  # to-2 said it sounds
        untouched.id: ["to-1", "to-2"],
    }
    assert {stale.id, cancelled.id, later.id}.isdisjoint(_owed(h))
    # Everyone confirmed: nothing owed any more.
    _confirm(h, "to-2", confirmed)
    assert confirmed.id not in _owed(h)
    # And once its order expires, nothing is owed whatever was said.
    asyncio.run(h.clock.advance(300))
    assert _owed(h) == {}


def test_the_copy_is_a_new_command_with_the_orders_own_item_and_expiry(h: Harness) -> None:
    broadcast = _now(h)
    _confirm(h, "to-1", broadcast)
    (first,) = _commands(h, "to-2")
    asyncio.run(h.clock.advance(30))
    assert h.runtime.broadcasts.resend_owed() == 1
    assert len(_commands(h, "to-1")) == 1  # confirmed: not sent again
    original, copy = _commands(h, "to-2")
    assert original == first
    assert copy.command_id != first.command_id  # a new delivery, not a replay
    assert copy.device_ids == ("to-2",)
    assert copy.expires_at == first.expires_at == broadcast.expires_at  # never extended
    assert copy.issued_at == first.issued_at
    assert isinstance(copy.order, PlayNow) and isinstance(first.order, PlayNow)
    assert copy.order.item.item_id == first.order.item.item_id == broadcast.id
    assert copy.order.item.planned_start == first.order.item.planned_start
    (published,) = h.published("to-2", DeviceChannel.COMMAND)[1:]
    assert published.retain is False
    assert published.expiry_s == 300 - 30  # what is left of the order's life


def test_a_controller_started_again_on_the_same_database_sends_what_is_owed(
    h: Harness, tmp_path: Path
) -> None:
    owed = _now(h)
    done = _now(h, Priority.NORMAL, ("to-2",))
    _confirm(h, "to-2", done)  # one event per device here: each chain starts at 1
    _confirm(h, "to-1", owed)
    h.runtime.stop()
    again = ControllerRuntime(
        h.runtime.settings,
        clock=h.clock,
        transport=h.broker.link("controller"),
        run_maintenance=False,
        prepare_chime=False,
    )
    again.start()
    h.runtime = again  # the fixture stops this one
    sent = _commands(h, "to-2")
    assert [c.order.item.item_id for c in sent if isinstance(c.order, PlayNow)] == [
        owed.id,
        done.id,
        owed.id,  # at the start: only what to-2 still owed
    ]
    assert [c.order.item.item_id for c in _commands(h, "to-1") if isinstance(c.order, PlayNow)] == [
        owed.id
    ]


def _stops(h: Harness, device_id: str) -> list[StopItem]:
    return [c.order for c in _commands(h, device_id) if isinstance(c.order, StopItem)]


def _stops_owed(h: Harness) -> dict[str, tuple[list[str], str]]:
    with h.runtime.db.session() as session:
        return {
            s.broadcast.id: (sorted(s.targets), s.words) for s in owed_stops(session, h.clock.now())
        }


def test_a_cancel_is_owed_to_the_devices_that_may_still_hold_the_order(h: Harness) -> None:
    played = _now(h, Priority.NORMAL)
    _confirm(h, "to-1", played)  # to-1 played it through before the cancel
    _says_it_plays(h, "to-2", played)  # to-2 sounds it: the stop matters most there
    h.runtime.broadcasts.cancel(played.id, reason="wrong ward")
    standing = _now(h, Priority.NORMAL)  # not cancelled: owed as an order, not a stop
    assert _stops_owed(h) == {played.id: (["to-2"], "cancelled by system: wrong ward")}
    assert standing.id not in _stops_owed(h)
    # Past its order's expiry and its clip's length, no device can hold it any more.
    asyncio.run(h.clock.advance(300 + 60))
    assert _stops_owed(h) == {}


def test_a_starting_controller_sends_the_stop_again_in_the_cancels_words(h: Harness) -> None:
    broadcast = _now(h, Priority.NORMAL)
    h.runtime.broadcasts.cancel(broadcast.id, reason="test")
    (first,) = _stops(h, "to-1")
    asyncio.run(h.clock.advance(30))
    assert h.runtime.broadcasts.resend_owed() == 2  # no device confirmed it: both told
    for device_id in DEVICES:
        stop, again = _stops(h, device_id)
        assert stop.item_id == again.item_id == broadcast.id
        assert again.reason == first.reason == "cancelled by system: test"
    # The order itself is not sent again: it was cancelled.
    assert [c for c in _commands(h, "to-1") if isinstance(c.order, PlayNow)][1:] == []


def _availability(h: Harness, device_id: str, state: Literal["online", "offline"]) -> None:
    body = Availability(state=state)
    h.device_sends(device_id, DeviceChannel.AVAILABILITY, Kind.AVAILABILITY, body)


def test_a_device_back_online_is_sent_what_it_is_owed_and_only_that(h: Harness) -> None:
    for device_id in DEVICES:
        _availability(h, device_id, "online")
    owed = _now(h)
    _confirm(h, "to-2", owed)
    cancelled = _now(h, Priority.NORMAL)
    h.runtime.broadcasts.cancel(cancelled.id, reason="test")
    sent_before = {d: len(_commands(h, d)) for d in DEVICES}
    # to-1's agent restarts (it may have lost an order between receiving and storing
    # it): the broker says it went (its will), then it says it is back.
    _availability(h, "to-1", "offline")
    asyncio.run(h.clock.advance(20))
    _availability(h, "to-1", "online")
    new = _commands(h, "to-1")[sent_before["to-1"] :]
    plays = [c for c in new if isinstance(c.order, PlayNow)]
    assert [c.order.item.item_id for c in plays if isinstance(c.order, PlayNow)] == [owed.id]
    assert plays[0].device_ids == ("to-1",)
    assert plays[0].expires_at == owed.expires_at  # its own expiry, never extended
    assert [c.order.item_id for c in new if isinstance(c.order, StopItem)] == [cancelled.id]
    assert len(new) == 2
    assert len(_commands(h, "to-2")) == sent_before["to-2"]  # it did not come back: nothing
    # "Online" again while online is no return: nothing more.
    _availability(h, "to-1", "online")
    assert len(_commands(h, "to-1")) == sent_before["to-1"] + 2


def test_a_device_back_online_that_started_or_confirmed_the_order_is_owed_nothing(
    h: Harness,
) -> None:
    for device_id in DEVICES:
        _availability(h, device_id, "online")
    broadcast = _now(h)
    _says_it_plays(h, "to-1", broadcast)
    _confirm(h, "to-2", broadcast)
    sent_before = {d: len(_commands(h, d)) for d in DEVICES}
    for device_id in DEVICES:
        _availability(h, device_id, "offline")
        _availability(h, device_id, "online")
    assert {d: len(_commands(h, d)) for d in DEVICES} == sent_before


def test_devices_back_in_one_batch_are_looked_up_together(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a broker restart the devices come back together: one look-up for a batch
    # of them (and one command per ward for those listening on theirs), not one each.
    for device_id in DEVICES:
        _availability(h, device_id, "online")
    owed = _now(h)
    sent_before = {d: len(_commands(h, d)) for d in DEVICES}
    calls: list[tuple[str, ...]] = []
    resend = h.runtime.broadcasts.resend_owed

    def counted(device_ids: Collection[str] | None = None) -> int:
        calls.append(tuple(device_ids or ()))
        return resend(device_ids)

    monkeypatch.setattr(h.runtime.broadcasts, "resend_owed", counted)
    for state in ("offline", "online"):
        batch = [_availability_message(h, d, state) for d in DEVICES]
        h.runtime.bridge.ingest._run_batch(batch)  # as the ingest thread takes them
    assert calls == [DEVICES]
    for device_id in DEVICES:
        (again,) = _commands(h, device_id)[sent_before[device_id] :]
        assert isinstance(again.order, PlayNow) and again.order.item.item_id == owed.id


def test_devices_back_in_one_batch_get_their_plans_compiled_together(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Their plans too: a thousand compiled one at a time held the ingest thread ~10 s.
    later = h.clock.now() + timedelta(hours=1)
    planned = h.runtime.broadcasts.schedule(BroadcastRequest(h.bulletin_id, DEVICES, later))
    for device_id in DEVICES:
        _availability(h, device_id, "online")
    plans_before = {d: len(h.published(d, DeviceChannel.PLAN)) for d in DEVICES}
    calls: list[tuple[str, ...]] = []
    refresh = h.runtime.plans.compiler.refresh

    def counted(session: Session, device_ids: Iterable[str], now: datetime, **kw: Any) -> Any:
        calls.append(tuple(device_ids))
        return refresh(session, calls[-1], now, **kw)

    monkeypatch.setattr(h.runtime.plans.compiler, "refresh", counted)
    for state in ("offline", "online"):
        batch = [_availability_message(h, d, state) for d in DEVICES]
        h.runtime.bridge.ingest._run_batch(batch)
    assert calls == [DEVICES]
    for device_id in DEVICES:
        (again,) = h.published(device_id, DeviceChannel.PLAN)[plans_before[device_id] :]
        plan = h.open(again.payload, Kind.PLAN).body
        # Unchanged while it was away: the same plan, under the same version.
        assert isinstance(plan, Plan) and plan.version == 1
        assert [item.item_id for item in plan.items] == [planned.id]


def _availability_message(
    h: Harness, device_id: str, state: Literal["online", "offline"]
) -> ReceivedMessage:
    body = Availability(state=state)
    return h.received(device_id, DeviceChannel.AVAILABILITY, Kind.AVAILABILITY, body)
