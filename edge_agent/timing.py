"""The timing path: the first sample on the planned instant, and other work kept off it.

Two helpers per event loop (one agent on a Pi, or a whole simulated fleet):

- ``StartBoard`` holds the armed starts. Every start due within one ``BUCKET_S`` slot
  of the monotonic clock shares one loop timer, set ``SPIN_S`` before the slot's
  earliest start; its callback spins out the rest and releases each start in turn at
  its own instant, reading the wall clock for each (that reading is the actual start).
  A thousand devices planned for the same second are released in one callback, not
  queued behind each other's bookkeeping (task wake-ups, journal rows, hooks): that
  all happens after the release. So are a thousand items following their predecessors
  back to back, each due at the last sample of its own predecessor, a few hundred
  microseconds apart: with a timer each, their wake-ups fell between the timers and
  the last started 22 ms late. Nor are they split by a slot's edge: the callback
  also releases the next slot's starts when they are due within ``SPIN_S``, as
  their own timer would fire only after the wake-ups of the starts just released.
  From a play's preparation to its start the garbage collector is off: a full
  collection of a fleet's heap stops the loop for up to a second (measured: 1,000
  agents' second back-to-back item 0.15-1.9 s late with it, 16 ms without).
- ``Deferred`` runs small jobs (sign, store and publish an event; a journal tick) in
  order, in slices of at most ``SLICE_S`` so that timers still fire between them, and
  holds them while a start is near: from the moment its play is prepared (agents say
  when they expect their next start, ``expect``) until it is released. Recording the
  last item never delays preparing or starting the next one: a thousand agents'
  records run while the next item plays. A job held longer than ``MAX_HOLD_S``
  (starts due back to back all the time) runs anyway.

With any clock but the system's (a test's ``FakeClock``) a start simply waits on that
clock, and deferred jobs run at the next turn of the loop.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wardcast_protocol.clock import Clock, SystemClock

log = logging.getLogger(__name__)

SPIN_S = 0.002  # the timer fires this early; the rest is a busy wait (epoll has 1 ms steps)
BUCKET_S = 0.005  # starts this close share one timer (the loop spins at most this long)
COARSE_S = 1.0  # a longer wait first sleeps on the wall clock, which follows NTP steps
QUIET_S = 0.05  # no deferred work starts this close before an armed start
SLICE_S = 0.002  # deferred work runs at most this long before timers get a turn
MAX_SPIN_S = 0.02  # one release callback (slots taken together) spins at most this long
GC_QUIET_S = 0.5  # the collector comes back on after this long without a start near
MAX_HOLD_S = 2.0  # deferred work waits for quiet at most this long

Job = Callable[[], None]


Waiter = tuple[float, asyncio.Future[datetime | None]]  # (loop time of its instant, future)


@dataclass
class _Group:
    """The starts due in one ``BUCKET_S`` slot."""

    deadline: float  # loop (monotonic) time of the earliest start in the slot
    waiters: list[Waiter] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class StartBoard:
    """Armed starts of one loop, one timer per planned instant."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: Clock) -> None:
        self._loop = loop
        self._clock = clock
        self._groups: dict[int, _Group] = {}  # by slot
        self._slot_of: dict[asyncio.Future[datetime | None], int] = {}
        self._expected: dict[str, tuple[float, float]] = {}  # owner: (hold from, start)
        self._preparing: set[str] = set()  # owners whose expected start is being prepared
        self._gc_off = False
        self._gc_was_enabled = True
        self._gc_on_timer: asyncio.TimerHandle | None = None

    def arm(self, at: datetime) -> asyncio.Future[datetime | None]:
        """A future resolved with the actual start when ``at`` comes (None if stopped)."""
        future: asyncio.Future[datetime | None] = self._loop.create_future()
        # Wall time to loop time once, close to the instant (``release_at`` arms at
        # most COARSE_S ahead), so clock drift in between is negligible.
        deadline = self._loop.time() + (at - self._clock.now()).total_seconds()
        slot = int(deadline // BUCKET_S)
        group = self._groups.get(slot)
        if group is None:
            group = self._groups[slot] = _Group(deadline)
        if group.timer is None or deadline < group.deadline:
            if group.timer is not None:
                group.timer.cancel()
            group.deadline = deadline
            group.timer = self._loop.call_at(deadline - SPIN_S, self._release, slot)
        group.waiters.append((deadline, future))
        self._slot_of[future] = slot
        self._collector()
        return future

    def disarm(self, at: datetime, future: asyncio.Future[datetime | None]) -> None:
        """A start that will not happen (stopped, cancelled): forget it, and its timer
        once no start is left in its slot (so the collector is never left off)."""
        slot = self._slot_of.pop(future, None)
        if slot is None or slot not in self._groups:
            return
        group = self._groups[slot]
        group.waiters = [w for w in group.waiters if w[1] is not future]
        if not group.waiters:
            if group.timer is not None:
                group.timer.cancel()
            del self._groups[slot]
            self._collector()

    def _collector(self) -> None:
        """The collector is off while a start is prepared or armed, and back on once no
        start has been for ``GC_QUIET_S``: a full collection of a fleet's heap stops the
        loop for up to a second. Not on at once: in a fan-out, agents start one after
        another as the command reaches them, and switching it on between two of them
        let a collection of all the others' garbage (10-80 ms) fall among the starts."""
        off = bool(self._groups or self._preparing)
        if off:
            if self._gc_on_timer is not None:
                self._gc_on_timer.cancel()
                self._gc_on_timer = None
            if not self._gc_off:
                self._gc_was_enabled = gc.isenabled()
                gc.disable()
                self._gc_off = True
        elif self._gc_off and self._gc_on_timer is None:
            self._gc_on_timer = self._loop.call_later(GC_QUIET_S, self._collector_on)

    def collector_now(self) -> None:
        """If no start is near, the collector back on at once, not after the quiet
        period: an agent leaving a loop that may close before the timer fires."""
        if self._gc_on_timer is not None:
            self._gc_on_timer.cancel()
            self._collector_on()

    def _collector_on(self) -> None:
        self._gc_on_timer = None
        if self._gc_off and not (self._groups or self._preparing):
            self._gc_off = False
            if self._gc_was_enabled:
                gc.enable()

    def expect(self, owner: str, at: datetime | None, prepare_s: float) -> None:
        """``owner``'s next start is at ``at`` (None: none), prepared ``prepare_s`` before."""
        self._preparing.discard(owner)
        if at is None:
            self._expected.pop(owner, None)
            self._collector()
            return
        start = self._loop.time() + (at - self._clock.now()).total_seconds()
        entry = self._expected[owner] = (start - prepare_s - QUIET_S, start)
        if entry[0] <= self._loop.time():
            self._preparing.add(owner)
        else:
            self._loop.call_at(entry[0], self._prepare_opens, owner, entry)
        self._collector()

    def _prepare_opens(self, owner: str, entry: tuple[float, float]) -> None:
        if self._expected.get(owner) is entry:  # not replaced or cleared since
            self._preparing.add(owner)
            self._collector()

    def hold_until(self, now: float) -> float | None:
        """Loop time until which deferred work should wait (None: run now).

        An expected start holds it from its preparation until the agent says it started
        (or expects another), even past its instant: a late agent still preparing goes
        first too."""
        until = [g.deadline for g in self._groups.values() if g.deadline - now < QUIET_S]
        until += [start for hold_from, start in self._expected.values() if hold_from <= now]
        return max(until, default=None)

    def next_deadline(self) -> float | None:
        """Loop time of the nearest armed start, None when nothing is armed."""
        return min((g.deadline for g in self._groups.values()), default=None)

    def _release(self, slot: int) -> None:
        group = self._groups.pop(slot, None)
        spin_until = self._loop.time() + MAX_SPIN_S
        while group is not None:
            for deadline, future in sorted(group.waiters, key=lambda w: w[0]):
                self._slot_of.pop(future, None)
                while self._loop.time() < deadline:
                    pass  # at most SPIN_S + BUCKET_S: sleeping again would wake 1 ms late
                if not future.done():
                    future.set_result(self._clock.now())
            group = self._take_next(spin_until)
        self._collector()

    def _take_next(self, spin_until: float) -> _Group | None:
        """The next slot's starts, if due within ``SPIN_S`` (when their own timer would
        fire and spin anyway): released by the same callback.

        Slots are fixed steps of the monotonic clock, so starts a few hundred
        microseconds apart (items following their predecessors back to back) may fall
        either side of a slot's edge; the later slot's own timer would then fire only
        after the wake-ups of every start just released (measured: 294 of 1,000 agents
        57 ms late, a third slot 24 ms more). Not further ahead: in a fan-out, starts
        spread as the command reaches agent after agent, and spinning up to ``BUCKET_S``
        for the next slot held the loop (and burnt the core) while other agents'
        commands waited (bench.fanout 1,000 agents p50 +30 ms). None past
        ``spin_until``: a callback never holds the loop longer than ``MAX_SPIN_S``.
        """
        if not self._groups:
            return None
        slot, group = min(self._groups.items(), key=lambda kv: kv[1].deadline)
        now = self._loop.time()
        if group.deadline - now > SPIN_S or group.deadline > spin_until:
            return None
        del self._groups[slot]
        if group.timer is not None:
            group.timer.cancel()
        return group


class Deferred:
    """Jobs run after the starts, in order, per loop (see the module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, board: StartBoard) -> None:
        self._loop = loop
        self._board = board
        self._jobs: deque[tuple[str, Job, float]] = deque()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._jobs)

    def add(self, owner: str, job: Job) -> None:
        """Run ``job`` soon, after the jobs added before it."""
        self._jobs.append((owner, job, self._loop.time()))
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._run())

    def flush(self, owner: str) -> int:
        """Run ``owner``'s jobs now, in order (an agent stopping); how many ran."""
        mine = [job for who, job, _ in self._jobs if who == owner]
        self.discard(owner)
        for job in mine:
            _run_job(job)
        return len(mine)

    def discard(self, owner: str) -> None:
        """Drop ``owner``'s jobs (an agent aborting, as a crash would lose them)."""
        self._jobs = deque(entry for entry in self._jobs if entry[0] != owner)
        if not self._jobs and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while self._jobs:
            hold = self._hold_s()
            if hold > 0:
                await asyncio.sleep(hold)
                continue
            end = self._loop.time() + SLICE_S
            while self._jobs and self._loop.time() < end:
                _, job, _ = self._jobs.popleft()
                _run_job(job)
            await asyncio.sleep(0)  # due timers fire between slices

    def _hold_s(self) -> float:
        """How long to wait before the next slice (0: now)."""
        now = self._loop.time()
        until = self._board.hold_until(now)
        if until is None or now - self._jobs[0][2] >= MAX_HOLD_S:
            return 0.0
        # Just past the start (an overdue one fires at the next turn of the loop); and
        # look again soon, as starts are expected and released meanwhile.
        return min(max(until - now + 0.0005, 0.005), 0.05)


def _run_job(job: Job) -> None:
    try:
        job()
    except Exception:  # one bad job must not stop the others (nor playback)
        log.exception("deferred job %r failed", job)


_BOARDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[StartBoard, Deferred]] = (
    weakref.WeakKeyDictionary()
)


def _for_loop(clock: Clock) -> tuple[StartBoard, Deferred]:
    loop = asyncio.get_running_loop()
    pair = _BOARDS.get(loop)
    if pair is None:
        board = StartBoard(loop, clock)
        pair = _BOARDS[loop] = (board, Deferred(loop, board))
    return pair


def deferred(clock: Clock) -> Deferred:
    """The running loop's deferred jobs (shared by every agent on the loop)."""
    return _for_loop(clock)[1]


def expect_start(clock: Clock, owner: str, at: datetime | None, prepare_s: float) -> None:
    """``owner`` will prepare a start at ``at`` ``prepare_s`` ahead: deferred work waits
    from then until the start (a no-op on a test's clock, whose jobs run at once)."""
    if isinstance(clock, SystemClock):
        _for_loop(clock)[0].expect(owner, at, prepare_s)


def leave(clock: Clock, owner: str) -> None:
    """``owner`` leaves the loop (an agent stopping): nothing of its own is expected
    any more, and the collector is back on at once if no other start is near (a closed
    loop would never fire the timer that turns it on, leaving it off for the process)."""
    if isinstance(clock, SystemClock):
        board = _for_loop(clock)[0]
        board.expect(owner, None, 0.0)
        board.collector_now()


async def release_at(clock: Clock, when: datetime, stop: asyncio.Event) -> datetime | None:
    """Wait for ``when``; the instant the first sample is released, None if ``stop`` came first."""
    if stop.is_set():
        return None
    if not isinstance(clock, SystemClock):
        return clock.now() if await _wait(clock.sleep_until(when), stop) else None
    coarse = when - timedelta(seconds=COARSE_S)
    if clock.now() < coarse and not await _wait(clock.sleep_until(coarse), stop):
        return None
    board = _for_loop(clock)[0]
    released = board.arm(when)
    stopper = asyncio.ensure_future(stop.wait())

    def stopped(_: object) -> None:
        if not released.done():
            released.set_result(None)

    stopper.add_done_callback(stopped)
    try:
        return await released
    finally:
        stopper.cancel()
        if not released.done() or released.cancelled() or released.result() is None:
            board.disarm(when, released)


async def _wait(sleep: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Wait for ``sleep`` (a coroutine) or ``stop``; True if the sleep ended first."""
    slept = asyncio.ensure_future(sleep)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([slept, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        slept.cancel()
        stopper.cancel()
    return not stop.is_set()
