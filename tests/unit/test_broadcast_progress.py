"""Broadcast progress: the state machine, and a broadcast that moves as devices report.

scheduled → sent → playing → done (or partial / failed / cancelled), per device and as a
whole, from what the controller sent, what devices said they hold, what they confirmed,
and the (fake) clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from controller.db.models import Broadcast, PlaybackEvidence
from controller.domain.actors import Actor, Forbidden, Role
from controller.domain.broadcasts.progress import progress_of
from controller.domain.broadcasts.service import BroadcastRequest
from controller.domain.broadcasts.states import (
    CONFIRM_GRACE,
    BroadcastStatus,
    TargetState,
    Timing,
    broadcast_status,
    target_state,
)
from controller.domain.errors import Conflict
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import Command, DeviceState, Kind, Outcome, Plan, StopItem
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, device_topic

T0 = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
S = TargetState


def _timing(immediate: bool = False, cancelled: bool = False) -> Timing:
    return Timing(T0, 60.0, immediate, T0 - timedelta(minutes=1) if cancelled else None)


@pytest.mark.parametrize(
    ("now", "outcome", "received", "immediate", "expected"),
    [
        (T0 - timedelta(hours=1), None, None, False, S.SCHEDULED),
        (T0 - timedelta(hours=1), None, T0 - timedelta(hours=2), False, S.RECEIVED),
        (T0, None, None, True, S.PLAYING),
        (T0 - timedelta(seconds=1), None, None, True, S.SENT),
        (T0 + timedelta(seconds=30), None, T0 - timedelta(hours=1), False, S.PLAYING),
        # Due, but the device never said it holds it: not "playing", just scheduled.
        (T0 + timedelta(seconds=30), None, None, False, S.SCHEDULED),
        (T0 + timedelta(seconds=60) + CONFIRM_GRACE, None, None, False, S.AWAITING),
        (T0 + timedelta(seconds=30), "completed", None, False, S.COMPLETED),
        (T0 + timedelta(days=3), "partial", None, False, S.PARTIAL),
        (T0, "something-new", None, False, S.FAILED),
    ],
)
def test_target_state(
    now: datetime, outcome: str | None, received: datetime | None, immediate: bool, expected: S
) -> None:
    assert target_state(_timing(immediate), now, outcome, received) is expected


def test_a_confirmation_outranks_a_cancel_for_its_device() -> None:
    timing = _timing(cancelled=True)
    assert target_state(timing, T0, "completed", None) is S.COMPLETED
    assert target_state(timing, T0, None, None) is S.CANCELLED


@pytest.mark.parametrize(
    ("now", "states", "immediate", "expected"),
    [
        (T0 - timedelta(hours=1), [S.SCHEDULED, S.RECEIVED], False, BroadcastStatus.SCHEDULED),
        (T0 - timedelta(hours=1), [S.RECEIVED, S.RECEIVED], False, BroadcastStatus.SENT),
        (T0 - timedelta(seconds=1), [S.SENT], True, BroadcastStatus.SENT),
        (T0, [S.PLAYING, S.RECEIVED], False, BroadcastStatus.PLAYING),
        (T0, [S.COMPLETED, S.PLAYING], False, BroadcastStatus.PLAYING),
        (T0, [S.COMPLETED, S.COMPLETED], False, BroadcastStatus.DONE),
        (T0, [S.COMPLETED, S.PREEMPTED], False, BroadcastStatus.PARTIAL),
        (T0, [S.PARTIAL, S.SKIPPED], False, BroadcastStatus.PARTIAL),
        (T0, [S.FAILED, S.SKIPPED], False, BroadcastStatus.FAILED),
        (T0 + timedelta(hours=1), [S.COMPLETED, S.AWAITING], False, BroadcastStatus.PARTIAL),
        (T0 + timedelta(hours=1), [S.AWAITING, S.AWAITING], False, BroadcastStatus.FAILED),
    ],
)
def test_broadcast_status(
    now: datetime, states: list[S], immediate: bool, expected: BroadcastStatus
) -> None:
    assert broadcast_status(_timing(immediate), now, states) is expected


def test_a_now_whose_order_expired_unplayed_reads_expired_not_playing() -> None:
    # The broker was down until the order expired (tests/integration/test_outage_drill.py):
    # the agents refuse it from then on, so the clock must not call it "playing".
    expires = T0 + timedelta(seconds=20)
    timing = Timing(T0, 60.0, True, None, expires)
    assert target_state(timing, expires - timedelta(seconds=1), None, None) is S.PLAYING
    assert target_state(timing, expires, None, None) is S.EXPIRED
    # A device that said it started, or confirmed, is not expired.
    assert target_state(timing, expires, None, None, T0) is S.PLAYING
    assert target_state(timing, expires, "completed", None) is S.COMPLETED
    assert broadcast_status(timing, expires, [S.EXPIRED, S.EXPIRED]) is BroadcastStatus.FAILED
    assert broadcast_status(timing, expires, [S.COMPLETED, S.EXPIRED]) is BroadcastStatus.PARTIAL
    assert broadcast_status(timing, expires, [S.PLAYING, S.EXPIRED]) is BroadcastStatus.PLAYING


def test_a_now_sent_while_nobody_heard_it_expires_in_the_officers_view(h: Harness) -> None:
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], None))
    assert broadcast.expires_at is not None
    asyncio.run(h.clock.advance((broadcast.expires_at - h.clock.now()).total_seconds()))
    status, states = _status(h, broadcast.id)
    assert (status, states) == (BroadcastStatus.FAILED, {"to-1": S.EXPIRED, "to-2": S.EXPIRED})


def test_a_cancelled_broadcast_reads_cancelled_whatever_played() -> None:
    status = broadcast_status(_timing(cancelled=True), T0, [S.COMPLETED, S.CANCELLED])
    assert status is BroadcastStatus.CANCELLED


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.runtime.stop()


def _status(h: Harness, broadcast_id: str) -> tuple[BroadcastStatus, dict[str, S]]:
    with h.runtime.db.session() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        progress = progress_of(session, broadcast, h.clock.now())
        return progress.status, {t.device_id: t.state for t in progress.targets}


def _holds_plan(h: Harness, device_id: str) -> None:
    plan = h.open(h.published(device_id, DeviceChannel.PLAN)[-1].payload, Kind.PLAN).body
    assert isinstance(plan, Plan)
    state = DeviceState(plan_version=plan.version, device_time=h.clock.now())
    h.device_sends(device_id, DeviceChannel.STATE, Kind.STATE, state)


def test_a_scheduled_broadcast_moves_to_done_as_devices_report(h: Harness) -> None:
    start = h.clock.now() + timedelta(minutes=10)
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], start))
    assert _status(h, broadcast.id) == (
        BroadcastStatus.SCHEDULED,
        {"to-1": S.SCHEDULED, "to-2": S.SCHEDULED},
    )
    _holds_plan(h, "to-1")
    assert _status(h, broadcast.id)[1]["to-1"] is S.RECEIVED
    _holds_plan(h, "to-2")
    assert _status(h, broadcast.id)[0] is BroadcastStatus.SENT
    asyncio.run(h.clock.advance(605))
    assert _status(h, broadcast.id)[0] is BroadcastStatus.PLAYING
    for device_id in ("to-1", "to-2"):
        event = h.event(
            device_id,
            event_id=f"ev-{device_id}",
            item_id=broadcast.id,
            broadcast_id=broadcast.id,
            planned_start=start,
        )
        h.device_sends(device_id, DeviceChannel.EVENT, Kind.EVENT, event)
        with h.runtime.db.session() as session:
            stored = session.get(Broadcast, broadcast.id)
            assert stored is not None
            # Stored: the cheap milestone; the whole status is progress_of's (below).
            assert stored.status == "playing"
    assert _status(h, broadcast.id) == (
        BroadcastStatus.DONE,
        {"to-1": S.COMPLETED, "to-2": S.COMPLETED},
    )


def test_one_failed_device_makes_it_partial(h: Harness) -> None:
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], None))
    assert _status(h, broadcast.id)[0] is BroadcastStatus.PLAYING
    outcomes = {"to-1": Outcome.COMPLETED, "to-2": Outcome.FAILED}
    for device_id, outcome in outcomes.items():
        event = h.event(
            device_id,
            event_id=f"ev-{device_id}",
            item_id=broadcast.id,
            broadcast_id=broadcast.id,
            planned_start=broadcast.planned_start,
            outcome=outcome,
        )
        h.device_sends(device_id, DeviceChannel.EVENT, Kind.EVENT, event)
    assert _status(h, broadcast.id)[0] is BroadcastStatus.PARTIAL


def test_cancelling_a_future_broadcast_drops_it_from_the_plans(h: Harness) -> None:
    start = h.clock.now() + timedelta(hours=1)
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], start))
    h.runtime.broadcasts.cancel(broadcast.id, reason="nhầm giờ")
    plan = h.open(h.published("to-1", DeviceChannel.PLAN)[-1].payload, Kind.PLAN).body
    assert isinstance(plan, Plan) and plan.version == 2 and plan.items == ()
    # Not yet due: no stop command, the new plan is enough.
    assert h.published("to-1", DeviceChannel.COMMAND) == []
    assert _status(h, broadcast.id) == (BroadcastStatus.CANCELLED, {"to-1": S.CANCELLED})
    with pytest.raises(Conflict, match="cancelled"):
        h.runtime.broadcasts.cancel(broadcast.id)


def test_cancelling_a_playing_broadcast_stops_it_and_keeps_what_played(h: Harness) -> None:
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], None))
    done = h.event(
        "to-1", item_id=broadcast.id, broadcast_id=broadcast.id, planned_start=h.clock.now()
    )
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, done)
    h.runtime.broadcasts.cancel(broadcast.id)
    # Only the device still owing it is told to stop, in the cancel's own words.
    assert len(h.published("to-1", DeviceChannel.COMMAND)) == 1  # the play-now only
    stop = h.open(h.published("to-2", DeviceChannel.COMMAND)[-1].payload, Kind.COMMAND).body
    assert isinstance(stop, Command) and isinstance(stop.order, StopItem)
    assert stop.order.item_id == broadcast.id
    assert stop.order.reason.startswith("cancelled by system")
    assert _status(h, broadcast.id) == (
        BroadcastStatus.CANCELLED,
        {"to-1": S.COMPLETED, "to-2": S.CANCELLED},
    )
    with h.runtime.db.session() as session:
        assert session.query(PlaybackEvidence).count() == 1


def test_a_finished_broadcast_cannot_be_cancelled(h: Harness) -> None:
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1"], None))
    event = h.event(
        "to-1", item_id=broadcast.id, broadcast_id=broadcast.id, planned_start=h.clock.now()
    )
    h.device_sends("to-1", DeviceChannel.EVENT, Kind.EVENT, event)
    with pytest.raises(Conflict, match="done"):
        h.runtime.broadcasts.cancel(broadcast.id)


def test_only_an_officer_or_approver_of_every_ward_may_cancel(h: Harness) -> None:
    broadcast = h.runtime.broadcasts.schedule(
        BroadcastRequest("bul-1", ["to-1"], h.clock.now() + timedelta(hours=1))
    )
    with pytest.raises(Forbidden):
        h.runtime.broadcasts.cancel(broadcast.id, Actor("eve", frozenset({Role.EVALUATOR})))
    elsewhere = Actor("bob", frozenset({Role.OFFICER}), frozenset({"99999"}))
    with pytest.raises(Forbidden):
        h.runtime.broadcasts.cancel(broadcast.id, elsewhere)


def test_a_device_saying_it_plays_is_playing_before_the_clock_says_so(h: Harness) -> None:
    start = h.clock.now() + timedelta(minutes=10)
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], start))
    # An early start (a device clock ahead, say): its word counts, the clock's does not.
    state = DeviceState(plan_version=99, device_time=h.clock.now(), playing_item_id=broadcast.id)
    h.device_sends("to-1", DeviceChannel.STATE, Kind.STATE, state)
    # A programme item names no broadcast: nothing to note, nothing refused.
    other = DeviceState(device_time=h.clock.now(), playing_item_id="prog-x-sang-1")
    h.device_sends("to-2", DeviceChannel.STATE, Kind.STATE, other)
    status, states = _status(h, broadcast.id)
    assert states == {"to-1": S.PLAYING, "to-2": S.SCHEDULED}
    assert status is BroadcastStatus.PLAYING
    with h.runtime.db.session() as session:
        stored = session.get(Broadcast, broadcast.id)
        assert stored is not None
        progress = progress_of(session, stored, h.clock.now())
        first = progress.targets[0]
        assert first.started_at == first.received_at == h.clock.now()


def test_target_state_takes_the_devices_word_for_playing() -> None:
    early = T0 - timedelta(minutes=5)
    assert target_state(_timing(), early, None, None, early) is S.PLAYING
    late = T0 + timedelta(hours=1)
    assert target_state(_timing(), late, None, None, T0) is S.AWAITING


def test_a_batch_of_playing_states_reads_its_targets_at_once(h: Harness) -> None:
    # After a "now" to a thousand loudspeakers their "playing" states arrive together:
    # the batch reads their targets in one query, not one per state.
    broadcast = h.runtime.broadcasts.schedule(BroadcastRequest("bul-1", ["to-1", "to-2"], None))
    batch = []
    for device_id in ("to-1", "to-2"):
        state = DeviceState(device_time=h.clock.now(), playing_item_id=broadcast.id)
        payload = seal(Kind.STATE, state, device_id, h.device_keys[device_id], h.clock.now())
        batch.append(ReceivedMessage(device_topic(device_id, DeviceChannel.STATE), payload, False))
    reads: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if (
            statement.lstrip().upper().startswith("SELECT")
            and "FROM broadcast_targets" in statement
        ):
            reads.append(statement)

    event.listen(h.runtime.db.engine, "before_cursor_execute", note)
    try:
        h.runtime.bridge._store_batch(batch)
    finally:
        event.remove(h.runtime.db.engine, "before_cursor_execute", note)
    assert len(reads) == 1
    assert _status(h, broadcast.id)[1] == {"to-1": S.PLAYING, "to-2": S.PLAYING}
    with h.runtime.db.session() as session:
        stored = session.get(Broadcast, broadcast.id)
        assert stored is not None
        started = {
            t.device_id: t.started_at for t in progress_of(session, stored, h.clock.now()).targets
        }
        assert started == {"to-1": h.clock.now(), "to-2": h.clock.now()}
