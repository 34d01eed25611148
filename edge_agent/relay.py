"""A relay on air: one live stream relayed for its window, with a local fallback.

A relay item (``PlanItem.relay``) is on air from its planned start for ``window_s``.
Its ``StreamMonitor`` (``stream``) has been connecting since ``prebuffer_s`` before.
On air, ``RelayRun`` takes the monitor's frames and plays them (``pcm`` sinks); its
books (``relay_books``) count what was heard. The rules a station engineer relies on:

- **Dead air before the fallback is at most ``dead_after_s``**, however the stream
  fails: refused, 404, not audio, ended, stalled with the socket open, or below
  ``silence_db``. Then the item's ``media`` plays through the normal player as the
  **fallback**, cut at the window's end.
- **A stream found dead during the prebuffer** (its connection failed and nothing came
  since) plays the fallback from the window's first second.
- **The stream is rejoined as soon as it is back**, even in the middle of the
  fallback: back means ``RECOVER_S`` of sound in a row from a live connection. After
  a fallback that ran to its end the stream is tried again for ``dead_after_s``, then
  the fallback plays again, and so on.
- **One outage is one gap**, however long and whatever it did on the way (dropped,
  refused, reconnected for a moment): a gap closes only when the stream is back.

Books are kept on the clock, so a unit test drives a relay with a FakeClock. This
module holds only the run on air, where the timing is; around it, apart because they
act before or after the window: ``relay_desk`` (the streams from prebuffer time and
the suspended runs), ``relay_outcome`` (the evidence once the window closed), and
``relay_turn`` (the run's turn in the play loop). The preemption rule is in
docs/priorities.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from edge_agent.aio import wait_any
from edge_agent.amplifier import AmplifierGate
from edge_agent.media_cache import MediaCache
from edge_agent.pcm import PcmSink
from edge_agent.player import Player, PlayResult
from edge_agent.relay_books import RECOVER_S, RelayTally
from edge_agent.stream import Frame, StreamMonitor
from firmware_stubs.interfaces import HardwareFault
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import PlanItem, RelaySpec

log = logging.getLogger(__name__)

STALL_GRACE_S = 1.0  # no frame this long after the audio ran out: the stream stalled
DECIDE_BEFORE_S = 0.25  # before the window (and the warm-up): is the stream dead already?


def relay_spec(item: PlanItem) -> RelaySpec:
    """``item``'s relay; a ValueError if it is not a relay item."""
    if item.relay is None:
        raise ValueError(f"{item.item_id} is not a relay item")
    return item.relay


class RelayRun:
    """One relay item on air: may be suspended by an emergency and resumed."""

    def __init__(
        self,
        item: PlanItem,
        monitor: StreamMonitor,
        *,
        sink: PcmSink,
        player: Player,
        media: MediaCache,
        clock: Clock,
        gate: AmplifierGate,
    ) -> None:
        self.item = item
        self.spec = relay_spec(item)
        self.monitor = monitor
        self._sink = sink
        self._player = player
        self._media = media
        self._clock = clock
        self._gate = gate
        self.window_start = item.planned_start
        self.window_end = item.planned_start + timedelta(seconds=self.spec.window_s)
        self._dead_after = timedelta(seconds=self.spec.dead_after_s)
        self.tally = RelayTally(self.window_start, self.window_end)
        self.on_started: Callable[[datetime], None] | None = None
        self.suspended_by: str | None = None
        self.journaled = False
        self._joined = False
        self._announced = False
        self._deadline = self.window_end  # while in a gap: when dead air has lasted enough
        self._stop = asyncio.Event()
        self._fallback: asyncio.Future[PlayResult] | None = None
        self._fetch: asyncio.Future[int] | None = None

    @property
    def started(self) -> bool:
        """True once audible sound (stream or fallback) went out."""
        return self.tally.actual_start is not None

    @property
    def window_open(self) -> bool:
        """True until the window's end."""
        return self._clock.now() < self.window_end

    def stop(self) -> None:
        """End ``run`` soon (preemption, a stop command, shutdown)."""
        self._stop.set()
        if self._fallback is not None and not self._fallback.done():
            self._player.stop()

    async def run(self) -> RelayTally:
        """Be on air until the window ends or ``stop``; resumable after a suspension."""
        self._stop = asyncio.Event()
        self.suspended_by = None
        try:
            if not self._joined:
                self._joined = True
                if await self._dead_from_the_start():
                    await self._play_fallback(start_at=self.window_start)
            elif self.tally.in_gap:  # back from an emergency: the stream gets its chance
                self._deadline = self._clock.now() + self._dead_after
            while not self._stop.is_set() and self.window_open:
                if await self._stream_spell():
                    await self._play_fallback()
        except HardwareFault as exc:
            self.tally.note(f"amplifier relay failed: {exc}", self._clock.now())
        return self.tally

    def suspend(self, why: str) -> None:
        """An emergency took the air: the time until ``run`` resumes is a gap."""
        self.suspended_by = why
        self._open_gap(self._clock.now(), reason=why)

    def finish(self) -> RelayTally:
        """Close the books (an open gap ends at the window's end, or now if earlier)."""
        tally = self.tally
        tally.close(self._clock.now(), self.spec.window_s)
        for at, problem in self._stream_problems():
            tally.note(problem, at)  # each thing the stream did in the window, when
        if self._fetch is not None:
            self._fetch.cancel()
        return tally

    def _stream_problems(self) -> Iterator[tuple[datetime, str]]:
        """The monitor's failures in the window, and the one in force as it opened."""
        in_force: tuple[datetime, str | None] | None = None
        for at, problem in self.monitor.history:
            if at < self.window_start:
                in_force = (at, problem)
            elif problem is not None:
                yield at, problem
        if in_force is not None and in_force[1] is not None:
            yield in_force[0], in_force[1]

    async def _dead_from_the_start(self) -> bool:
        """Before the window: True (and a gap from its start) when the prebuffer found
        the stream dead, so the fallback plays from the window's first second."""
        now = self._clock.now()
        late_s = (now - self.window_start).total_seconds()
        if late_s > 1.0:
            # Learnt of late (or the agent was busy): a live stream is joined, not replayed.
            self.tally.note(f"joined {late_s:.0f} s into the window", now)
        lead = timedelta(seconds=self._player.lead_s + DECIDE_BEFORE_S)
        if now < self.window_start - lead:
            await wait_any([], self._stop.wait(), self._clock.sleep_until(self.window_start - lead))
        monitor = self.monitor
        if self._stop.is_set() or not monitor.failing or monitor.up or monitor.has_frames:
            return False
        self._open_gap(max(self._clock.now(), self.window_start), monitor.down_since)
        return late_s <= 0

    # on air: the stream --------------------------------------------------------------

    async def _stream_spell(self) -> bool:
        """Relay the stream; True when dead air (or silence) has lasted long enough for
        the fallback, False at the window's end or on ``stop``."""
        async with self._gate as amplifier_on:
            self.tally.amplifier(amplifier_on)
            await self._sink.open()
            try:
                return await self._relay_frames()
            finally:
                # What the sink still held is unheard; what it plays after the window's
                # end is not this relay's.
                self.tally.cut(min(self._clock.now(), self.window_end))
                await self._sink.close()

    async def _relay_frames(self) -> bool:
        monitor, end, tally = self.monitor, self.window_end, self.tally
        if self._clock.now() < self.window_start:
            # Prepared early (amplifier warm): hold the first sample for the window.
            await wait_any([], self._stop.wait(), self._clock.sleep_until(self.window_start))
        monitor.skip_backlog()  # join live: older audio is not this window's
        audio_until = sound_until = self._clock.now()  # when the sink's audio (sound) ends
        while True:
            now = self._clock.now()
            if self._stop.is_set() or now >= end:
                return False
            if tally.in_gap and now >= self._deadline and now >= sound_until:
                return True  # dead air for dead_after_s, and no sound playing
            down = not monitor.up and not monitor.has_frames
            if not tally.in_gap and down and now >= audio_until:
                self._open_gap(audio_until, monitor.down_since)
                continue
            if tally.in_gap:
                wait_until = max(self._deadline, sound_until)
            elif down:
                wait_until = audio_until  # nothing more is coming: the gap starts then
            else:
                wait_until = audio_until + timedelta(seconds=STALL_GRACE_S)
            frame = await monitor.next_frame(min(wait_until, end), self._stop)
            if frame is None:
                if not tally.in_gap and self._clock.now() >= wait_until:
                    stalled = "stream stalled" if monitor.up else None
                    self._open_gap(audio_until, monitor.down_since, reason=stalled)
                continue
            now = self._clock.now()
            if now >= end:
                continue  # it would sound after the window: not this relay's
            start = max(audio_until, now)  # it plays when the audio before it is done
            if not await self._write(frame):
                continue  # stopped (or the window ended) while the sink was full
            audio_until = start + timedelta(seconds=frame.seconds)
            if frame.level_db >= self.spec.silence_db:
                sound_until = audio_until
                self._book_sound(start, frame, now)
            else:
                began = tally.silence(start, frame.seconds, now, self.spec.dead_after_s)
                if began is not None:
                    silent = f"stream silent (below {self.spec.silence_db:g} dBFS)"
                    self._open_gap(began, reason=silent)

    async def _write(self, frame: Frame) -> bool:
        """Hand a frame to the sink; False if ``stop`` or the window's end came first
        (an emergency must not wait for the sink's buffer to drain, nor the next item)."""
        write = asyncio.ensure_future(self._sink.write(frame.pcm))
        await wait_any([write], self._stop.wait(), self._clock.sleep_until(self.window_end))
        if write.done():
            write.result()
            return True
        write.cancel()
        await asyncio.gather(write, return_exceptions=True)
        return False

    def _book_sound(self, start: datetime, frame: Frame, now: datetime) -> None:
        self.tally.sound(start, frame.seconds, now)
        self._announce()

    # on air: the fallback ------------------------------------------------------------

    async def _play_fallback(self, start_at: datetime | None = None) -> None:
        item = self.item
        if not self._media.has(item.media):
            self.tally.note("fallback media not cached", self._clock.now())
            if self._fetch is None or self._fetch.done():
                self._fetch = asyncio.ensure_future(self._media.prefetch([item.media]))
            self._deadline = self._clock.now() + self._dead_after
            return
        path = self._media.path_for(item.media)
        play = asyncio.ensure_future(
            self._player.play(path, item.media.duration_s, self._fallback_started, start_at)
        )
        self._fallback = play
        back = asyncio.ensure_future(self._stream_back())
        try:
            await wait_any(
                [play, back], self._stop.wait(), self._clock.sleep_until(self.window_end)
            )
            if not play.done():
                self._player.stop()  # the stream is back, the window closed, or a stop
            result = await play
        except Exception as exc:  # a player bug must not end the relay
            log.exception("relay %s: fallback failed", item.item_id)
            self.tally.note(f"fallback failed: {type(exc).__name__}: {exc}", self._clock.now())
            return
        finally:
            back.cancel()
            await asyncio.gather(back, return_exceptions=True)
            self._fallback = None
            self._deadline = self._clock.now() + self._dead_after
        self.tally.fallback(result.started_at, result.played_s)
        self.tally.amplifier(result.amplifier_on)
        if result.error:
            self.tally.note(f"fallback: {result.error}", self._clock.now())

    def _fallback_started(self, at: datetime) -> None:
        self.tally.started(at)
        self._announce()

    async def _stream_back(self) -> bool:
        """While the fallback plays: True once the stream has given ``RECOVER_S`` of
        sound in a row on one connection (False at the window's end or on ``stop``)."""
        run_s, connection = 0.0, -1
        while True:
            frame = await self.monitor.next_frame(self.window_end, self._stop)
            if frame is None:
                return False
            if frame.level_db < self.spec.silence_db or frame.connection != connection:
                run_s, connection = 0.0, frame.connection
            if frame.level_db >= self.spec.silence_db:
                run_s += frame.seconds
            if run_s >= RECOVER_S - 1e-6:
                return True

    # books ---------------------------------------------------------------------------

    def _open_gap(
        self, at: datetime, dead_since: datetime | None = None, *, reason: str | None = None
    ) -> None:
        """An outage from ``at``; its dead air may date from ``dead_since`` (earlier).

        Why the stream is down is the monitor's to say (``finish`` takes it with its
        time); ``reason`` is what only the relay saw (silence, a stall, an emergency).
        """
        tally = self.tally
        if reason is not None:
            tally.note(reason, max(at, self.window_start))
        elif not self.monitor.failing and not self.monitor.up:
            tally.note("stream not connected yet", max(at, self.window_start))
        if not tally.open_gap(at) or tally.gap_from is None:
            return
        gap_from = tally.gap_from
        if gap_from <= self.window_start and self.monitor.failing:
            self._deadline = gap_from  # found dead in the prebuffer: fall back at once
        else:
            self._deadline = min(gap_from, dead_since or gap_from) + self._dead_after

    def _announce(self) -> None:
        """Tell the play loop when audible sound first went out (once)."""
        if self._announced or self.tally.actual_start is None:
            return
        self._announced = True
        if self.on_started is not None:
            self.on_started(self.tally.actual_start)
