"""The timing path: starts released together on the instant, deferred work kept off it.

The starts use the system clock (the thing under test is the monotonic timer and its
spin), a few tens of milliseconds ahead; nothing here asserts a latency, only order.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from edge_agent import timing
from wardcast_protocol.clock import FakeClock, SystemClock

# Far enough ahead that a loaded CI worker, stalled between arming the starts and their
# first step, still arms them before their instant (30 ms was not always).
AHEAD = timedelta(milliseconds=250)
QUIET_S = 0.01


@pytest.fixture(autouse=True)
async def short_quiet(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """The collector comes back on 10 ms after the last start here, not 0.5 s; and is
    on when each test's loop closes (a closed loop never fires the timer)."""
    monkeypatch.setattr(timing, "GC_QUIET_S", QUIET_S)
    yield
    await asyncio.sleep(QUIET_S * 3)
    assert gc.isenabled()


async def collector_back_on() -> bool:
    """Whether the collector is on once the quiet period has passed."""
    await asyncio.sleep(QUIET_S * 3)
    return gc.isenabled()


async def test_starts_due_at_one_instant_share_one_timer_and_never_start_early() -> None:
    clock = SystemClock()
    when = clock.now() + AHEAD
    stop = asyncio.Event()
    starts = [asyncio.ensure_future(timing.release_at(clock, when, stop)) for _ in range(3)]
    await asyncio.sleep(0)
    board = timing._for_loop(clock)[0]
    assert len(board._groups) == 1  # one timer for the three
    released = await asyncio.gather(*starts)
    assert all(at is not None and at >= when for at in released)
    assert board.next_deadline() is None and await collector_back_on()


async def test_starts_microseconds_apart_share_one_timer_each_on_its_instant() -> None:
    # Items following their predecessors back to back: each due at its own predecessor's
    # last sample. One callback releases them all, in order, none before its instant.
    clock = SystemClock()
    base = clock.now() + AHEAD
    instants = [base + timedelta(microseconds=300 * i) for i in range(5)]
    stop = asyncio.Event()
    starts = [asyncio.ensure_future(timing.release_at(clock, at, stop)) for at in instants]
    await asyncio.sleep(0)
    board = timing._for_loop(clock)[0]
    assert sum(len(g.waiters) for g in board._groups.values()) == 5
    assert len(board._groups) <= 2  # one slot, or two if the instants straddle a boundary
    released = await asyncio.gather(*starts)
    assert all(at is not None and at >= due for at, due in zip(released, instants, strict=True))
    assert board.next_deadline() is None and await collector_back_on()


async def test_a_stop_before_the_instant_releases_nothing() -> None:
    clock = SystemClock()
    stop = asyncio.Event()
    start = asyncio.ensure_future(timing.release_at(clock, clock.now() + AHEAD, stop))
    await asyncio.sleep(0)
    assert not gc.isenabled()  # no collection may fall on the instant
    stop.set()
    assert await start is None
    assert await collector_back_on() and timing._for_loop(clock)[0].next_deadline() is None


async def test_deferred_work_waits_until_the_armed_start_is_released() -> None:
    clock = SystemClock()
    order: list[str] = []
    stop = asyncio.Event()

    async def start() -> None:
        # Within timing.QUIET_S of the start, the only window where deferred work waits.
        await timing.release_at(clock, clock.now() + timedelta(milliseconds=30), stop)
        order.append("start")

    playing = asyncio.ensure_future(start())
    await asyncio.sleep(0)
    timing.deferred(clock).add("dev-1", lambda: order.append("record"))
    await playing
    for _ in range(400):  # up to 2 s: the job runs on the loop's next turns
        await asyncio.sleep(0.005)
        if "record" in order:
            break
    assert order == ["start", "record"]


async def test_deferred_jobs_run_in_order_and_an_owner_flushes_or_discards_its_own(
    fake_clock: FakeClock,
) -> None:
    later = timing.deferred(fake_clock)
    ran: list[str] = []
    later.add("a", lambda: ran.append("a1"))
    later.add("b", lambda: ran.append("b1"))
    later.add("a", lambda: ran.append("a2"))
    assert later.flush("a") == 2  # an agent stopping writes its events now
    later.discard("b")  # an agent aborting loses them, as a crash would
    for _ in range(5):
        await asyncio.sleep(0)
    assert ran == ["a1", "a2"] and len(later) == 0
    later.add("c", lambda: ran.append("c1"))
    later.add("c", _fails)  # a failing job is logged, the next still runs
    later.add("c", lambda: ran.append("c2"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert ran == ["a1", "a2", "c1", "c2"]


async def test_deferred_work_waits_from_a_plays_preparation_until_it_started() -> None:
    clock = SystemClock()
    start = clock.now() + AHEAD
    timing.expect_start(clock, "dev-1", start, prepare_s=0.5)  # being prepared now
    ran: list[datetime] = []
    timing.deferred(clock).add("dev-2", lambda: ran.append(clock.now()))
    await clock.sleep_until(start + timedelta(milliseconds=20))
    assert not ran and not gc.isenabled()  # late, still preparing: it goes first
    timing.expect_start(clock, "dev-1", None, 0.0)  # started
    assert not gc.isenabled()  # not at once: another start may follow
    assert await collector_back_on()
    for _ in range(400):  # up to 2 s: the job runs on the loop's next turns
        await asyncio.sleep(0.005)
        if ran:
            break
    assert ran and ran[0] >= start


async def test_the_collector_stays_off_between_starts_closer_than_the_quiet_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fan-out: agents start one after another as the command reaches them. A quiet
    # period far longer than the sleeps: what is checked is order, not time (with
    # 10 ms, a loaded CI worker slept past it between dev-1's start and dev-2's).
    monkeypatch.setattr(timing, "GC_QUIET_S", 5.0)
    clock = SystemClock()
    board = timing._for_loop(clock)[0]
    timing.expect_start(clock, "dev-1", clock.now(), prepare_s=0.5)
    timing.expect_start(clock, "dev-1", None, 0.0)
    await asyncio.sleep(0.01)
    assert not gc.isenabled() and board._gc_on_timer is not None  # on only once quiet
    timing.expect_start(clock, "dev-2", clock.now(), prepare_s=0.5)
    assert board._gc_on_timer is None  # dev-2 preparing: no timer may turn it on
    await asyncio.sleep(0.02)
    assert not gc.isenabled()  # dev-2 is still preparing
    timing.expect_start(clock, "dev-2", None, 0.0)
    assert not gc.isenabled() and board._gc_on_timer is not None
    timing.leave(clock, "dev-2")  # as the agent's loop closes: on at once
    assert gc.isenabled()


async def test_an_agent_leaving_turns_the_collector_back_on_at_once() -> None:
    clock = SystemClock()
    timing.expect_start(clock, "dev-1", clock.now(), prepare_s=0.5)
    timing.expect_start(clock, "dev-1", None, 0.0)
    assert not gc.isenabled()
    timing.leave(clock, "dev-1")  # its loop may close before the quiet period ends
    assert gc.isenabled()


def _fails() -> None:
    """A deferred job that raises."""
    raise ZeroDivisionError("a failing job")


async def test_starts_either_side_of_a_slots_edge_are_released_by_one_callback() -> None:
    # Items following their predecessors back to back, a few hundred microseconds
    # apart, across the edge of a slot of the monotonic clock: the later slot's own
    # timer would fire only after the wake-ups of the starts just released (a
    # thousand of them: 57 ms late). Both are released before any wake-up runs.
    clock = SystemClock()
    loop = asyncio.get_running_loop()
    board = timing._for_loop(clock)[0]
    edge = (int((loop.time() + AHEAD.total_seconds()) / timing.BUCKET_S) + 1) * timing.BUCKET_S
    wall, mono = clock.now(), loop.time()
    instants = [wall + timedelta(seconds=edge + off - mono) for off in (-0.001, 0.0005)]
    stop = asyncio.Event()
    starts = [asyncio.ensure_future(timing.release_at(clock, at, stop)) for at in instants]
    await asyncio.sleep(0)
    assert len(board._groups) == 2  # one slot each side of the edge
    (_, first), (_, second) = (g.waiters[0] for g in sorted(board._groups.values(), key=_at))
    seen: list[bool] = []
    first.add_done_callback(lambda _: seen.append(second.done()))
    released = await asyncio.gather(*starts)
    assert seen == [True]  # the later one too, before the earlier one's wake-up
    assert all(at is not None and at >= due for at, due in zip(released, instants, strict=True))
    assert board.next_deadline() is None and await collector_back_on()


def _at(group: timing._Group) -> float:
    """A slot's earliest start (loop time)."""
    return group.deadline


@pytest.mark.parametrize(("before_edge_s", "after_edge_s"), [(0.0005, 0.0295), (0.0005, 0.0035)])
async def test_a_start_further_than_a_spin_away_keeps_its_own_timer(
    before_edge_s: float, after_edge_s: float
) -> None:
    # Released with the one before, it would hold the loop in a spin until its instant:
    # in a fan-out, starts spread over slots as the command reaches agent after agent,
    # and the other agents' commands would wait behind that spin (4 ms: the next slot,
    # further than SPIN_S).
    clock = SystemClock()
    loop = asyncio.get_running_loop()
    board = timing._for_loop(clock)[0]
    edge = (int((loop.time() + AHEAD.total_seconds()) / timing.BUCKET_S) + 1) * timing.BUCKET_S
    wall, mono = clock.now(), loop.time()
    stop = asyncio.Event()
    instants = [
        wall + timedelta(seconds=edge + off - mono) for off in (-before_edge_s, after_edge_s)
    ]
    starts = [asyncio.ensure_future(timing.release_at(clock, at, stop)) for at in instants]
    await asyncio.sleep(0)
    (_, first), (_, second) = (g.waiters[0] for g in sorted(board._groups.values(), key=_at))
    seen: list[bool] = []
    first.add_done_callback(lambda _: seen.append(second.done()))
    # When the release looked for the next slot, and whether it took it: a loop woken
    # late (a loaded CI worker) rightly takes a start that is by then a spin away.
    looked: list[tuple[float, bool]] = []
    take_next = board._take_next

    def recording(spin_until: float) -> timing._Group | None:
        at = loop.time()
        group = take_next(spin_until)
        looked.append((at, group is not None))
        return group

    board._take_next = recording  # type: ignore[method-assign]
    released = await asyncio.gather(*starts)
    still_far = edge + after_edge_s - timing.SPIN_S - 0.0005
    assert looked and all(not took for at, took in looked if at < still_far)
    if looked[0][0] < still_far:  # released on time, as on a quiet machine
        assert seen == [False]
    assert all(at is not None and at >= due for at, due in zip(released, instants, strict=True))
    assert await collector_back_on()
