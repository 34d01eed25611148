"""Broadcast scheduling: plans and commands reach the right devices, and only valid ones."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from controller.db.models import Broadcast, Bulletin
from controller.domain.broadcasts.service import BroadcastRequest, order_expiry
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.plans.planned import planned_play
from tests.unit.controller_support import SHA, Harness, make_harness
from wardcast_protocol.messages import Command, Kind, Plan, Priority, Trigger
from wardcast_protocol.topics import DeviceChannel


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def test_scheduled_broadcast_publishes_each_targets_plan_retained_and_signed(h: Harness) -> None:
    start = h.clock.now() + timedelta(minutes=10)
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], start))
    for device_id in ("to-1", "to-2"):
        (published,) = h.published(device_id, DeviceChannel.PLAN)
        assert published.retain is True
        plan = h.open(published.payload, Kind.PLAN).body
        assert isinstance(plan, Plan)
        assert plan.device_id == device_id and plan.version == 1
        (item,) = plan.items
        assert item.item_id == broadcast.id
        assert item.planned_start == start
        assert item.media.sha256 == SHA
        assert urlsplit(item.media.url).path.endswith(f"/media/{SHA}.ogg")
        assert "sig=" in urlsplit(item.media.url).query  # signed and time-limited
        assert item.media.duration_s == 12.0
    assert h.published("to-1", DeviceChannel.COMMAND) == []


def test_a_second_broadcast_bumps_the_version_and_keeps_the_first_item(h: Harness) -> None:
    service = h.runtime.broadcasts
    first = service.schedule(
        BroadcastRequest("bul-1", ["to-1"], h.clock.now() + timedelta(hours=1))
    )
    second = service.schedule(
        BroadcastRequest("bul-1", ["to-1"], h.clock.now() + timedelta(hours=2))
    )
    latest = h.open(h.published("to-1", DeviceChannel.PLAN)[-1].payload, Kind.PLAN).body
    assert isinstance(latest, Plan)
    assert latest.version == 2
    assert [i.item_id for i in latest.items] == [first.id, second.id]
    assert h.published("to-2", DeviceChannel.PLAN) == []


def test_start_times_in_other_zones_are_stored_as_the_same_instant(h: Harness) -> None:
    hanoi = timezone(timedelta(hours=7))
    start = (h.clock.now() + timedelta(hours=1)).astimezone(hanoi)
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], start))
    with h.runtime.db.session() as session:
        stored = session.get(Broadcast, broadcast.id)
        assert stored is not None
        assert stored.planned_start == start
        assert stored.planned_start.utcoffset() == timedelta(0)


def test_now_sends_a_never_retained_command_with_an_expiry(h: Harness) -> None:
    h.runtime.broadcasts.schedule(
        BroadcastRequest("bul-1", ["to-1", "to-2"], None, Priority.EMERGENCY)
    )
    for device_id in ("to-1", "to-2"):
        (published,) = h.published(device_id, DeviceChannel.COMMAND)
        assert published.retain is False
        assert published.expiry_s == 300
        command = h.open(published.payload, Kind.COMMAND).body
        assert isinstance(command, Command)
        assert command.expires_at == h.clock.now() + timedelta(seconds=300)
        assert command.order.action == "play_now"
        assert command.order.item.priority is Priority.EMERGENCY
        assert command.order.item.trigger is Trigger.EMERGENCY
    assert h.published("to-1", DeviceChannel.PLAN) == []


def test_a_now_expires_with_its_bulletin_when_that_comes_first(h: Harness) -> None:
    # An emergency's CAP "expires" is its bulletin's valid_until: an order held back by
    # a broker outage must not sound after it (tests/integration/test_outage_drill.py).
    valid_until = h.clock.now() + timedelta(seconds=40)
    with h.runtime.db.session() as session:
        bulletin = session.get(Bulletin, "bul-1")
        assert bulletin is not None
        bulletin.valid_until = valid_until
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], None))
    assert broadcast.expires_at == valid_until
    (published,) = h.published("to-1", DeviceChannel.COMMAND)
    assert published.expiry_s == 40
    command = h.open(published.payload, Kind.COMMAND).body
    assert isinstance(command, Command)
    assert command.expires_at == valid_until
    # A bulletin valid for longer than a command lives: the command's own expiry.
    assert order_expiry(h.clock.now(), 300, valid_until + timedelta(hours=1)) == (
        h.clock.now() + timedelta(seconds=300)
    )


def _in_thread(action: Callable[[], object]) -> threading.Thread:
    worker = threading.Thread(target=action, daemon=True)
    worker.start()
    return worker


def test_a_now_does_not_wait_while_plans_are_being_compiled(h: Harness) -> None:
    # An emergency adds no item to any plan, so it must not queue behind another
    # officer's broadcast being compiled into a thousand plans or a broker restart's
    # republish (bench.plans: 0.7 s and 0.3 s at 1,000 devices when it did).
    # A broadcast for later does wait: plan versions must be published in order.
    held, release = threading.Event(), threading.Event()

    def compile_for_long() -> None:
        with h.runtime.plans.lock:
            held.set()
            release.wait(10)

    holder = _in_thread(compile_for_long)
    assert held.wait(5)
    broadcasts = h.runtime.broadcasts
    later = _in_thread(
        lambda: broadcasts.schedule(
            BroadcastRequest("bul-1", ["to-2"], h.clock.now() + timedelta(hours=1))
        )
    )
    now = _in_thread(
        lambda: broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], None, Priority.EMERGENCY))
    )
    try:
        now.join(5)
        assert not now.is_alive(), "the emergency waited for the plans' lock"
        (command,) = h.published("to-1", DeviceChannel.COMMAND)
        assert command.retain is False
        assert later.is_alive() and h.published("to-2", DeviceChannel.PLAN) == []
    finally:
        release.set()
        holder.join(5)
        later.join(5)
    assert not later.is_alive()
    assert len(h.published("to-2", DeviceChannel.PLAN)) == 1


@pytest.mark.parametrize("refresh_from_s", [0, -1])
def test_a_recompile_leaves_a_nows_planned_play_alone(h: Harness, refresh_from_s: int) -> None:
    # 0: a recompile in the same instant as the "now"; -1: one that began a second
    # before it and read the planned plays after it committed (a "now" does not wait for
    # the plans' lock). Neither may withdraw the emergency from what was planned.
    now = h.runtime.broadcasts.schedule(
        BroadcastRequest("bul-1", ["to-1"], None, Priority.EMERGENCY)
    )
    with h.runtime.db.session() as session:
        since = h.clock.now() + timedelta(seconds=refresh_from_s)
        h.runtime.plans.compiler.refresh(session, ["to-1", "to-2"], since)
    with h.runtime.db.session() as session:
        row = planned_play(session, "to-1", now.id)
        assert row is not None and row.withdrawn_at is None


def test_an_orders_transaction_refuses_to_recompile_and_sends_nothing(h: Harness) -> None:
    sent: list[str] = []
    with pytest.raises(RuntimeError, match="cannot recompile"), h.runtime.plans.commanding() as c:
        c.after_commit(lambda: sent.append("order"))
        c.recompile(["to-1"])
    assert sent == [] and h.broker.log == []


@pytest.mark.parametrize(
    ("request_", "error", "words"),
    [
        (BroadcastRequest("bul-1", ["to-1"], None), None, None),
        (BroadcastRequest("bul-1", ["to-1", "nope"], None), NotFound, "nope"),
        (BroadcastRequest("bul-x", ["to-1"], None), NotFound, "bul-x"),
        (BroadcastRequest("bul-1", [], None), Exception, "at least one device"),
    ],
)
def test_bad_requests_are_refused_and_tell_no_device(
    h: Harness, request_: BroadcastRequest, error: type[Exception] | None, words: str | None
) -> None:
    if error is None:
        h.runtime.broadcasts.schedule(request_)
        assert len(h.broker.log) == 1
        return
    with pytest.raises(error, match=words):
        h.runtime.broadcasts.schedule(request_)
    assert h.broker.log == []
    with h.runtime.db.session() as session:
        assert session.query(Broadcast).count() == 0


def test_a_time_in_the_past_is_refused(h: Harness) -> None:
    past = h.clock.now() - timedelta(minutes=1)
    with pytest.raises(InvalidInput, match="in the past"):
        h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], past))
    assert h.broker.log == []


def test_a_naive_time_is_refused(h: Harness) -> None:
    naive = (h.clock.now() + timedelta(minutes=1)).replace(tzinfo=None)
    with pytest.raises(InvalidInput, match="time zone"):
        h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], naive))
