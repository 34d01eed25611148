"""Relaying a live stream for a window, with a local fallback, and the evidence of it.

A relay item (``PlanItem.relay``) is on air from its planned start for ``window_s``.
Its ``StreamMonitor`` (``stream``) has been connecting since ``prebuffer_s`` before.
On air, ``RelayRun`` takes the monitor's frames and plays them (``pcm`` sinks),
and keeps the books:

- **relayed** seconds of stream audio played (a pause shorter than ``dead_after_s``
  counts: it is part of the programme);
- a **gap** opens when the stream stops giving audio (dropped, stalled, refused,
  not a stream) or has been below ``silence_db`` for ``dead_after_s``, or when an
  emergency interrupts the relay; it closes when stream sound is back;
- once a gap has lasted ``dead_after_s`` (counting the prebuffer, so a stream that
  was already dead plays the fallback from the first second), the item's ``media``
  is played through the normal player as the **fallback**, cut at the window's end;
  then the stream is tried again for ``dead_after_s``, and so on.

Books are kept on the clock, so a unit test drives a relay with a FakeClock. The
outcome rule is in ``relay_facts``; the preemption rule in docs/priorities.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from edge_agent.aio import wait_any
from edge_agent.evidence import PlayFacts
from edge_agent.media_cache import MediaCache
from edge_agent.pcm import PcmSink
from edge_agent.player import AmplifierGate, Player, PlayResult
from edge_agent.stream import Frame, StreamMonitor, StreamOpener
from firmware_stubs.interfaces import HardwareFault
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Outcome, PlanItem, RelaySpec, RelayStats

log = logging.getLogger(__name__)

COMPLETE_SHARE = 0.95  # relayed at least this share of the window: COMPLETED
STALL_GRACE_S = 1.0  # no frame this long after the audio ran out: the stream stalled
DEFAULT_RATE_HZ = 8000


@dataclass
class RelayTally:
    """What happened on air, in seconds of the window."""

    relayed_s: float = 0.0
    gap_count: int = 0
    gap_s: float = 0.0
    fallback_s: float = 0.0
    fallback_used: bool = False
    actual_start: datetime | None = None
    amplifier_on: bool | None = None
    problems: list[str] = field(default_factory=list)

    def note(self, text: str | None) -> None:
        """Keep a distinct problem for the evidence's reason, in order of first sight."""
        if text and text not in self.problems:
            self.problems.append(text)


def _spec(item: PlanItem) -> RelaySpec:
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
        self.spec = _spec(item)
        self.monitor = monitor
        self._sink = sink
        self._player = player
        self._media = media
        self._clock = clock
        self._gate = gate
        self.window_start = item.planned_start
        self.window_end = item.planned_start + timedelta(seconds=self.spec.window_s)
        self._dead_after = timedelta(seconds=self.spec.dead_after_s)
        self.tally = RelayTally()
        self.on_started: Callable[[datetime], None] | None = None
        self.suspended_by: str | None = None
        self.journaled = False
        self._joined = False
        self._gap_start: datetime | None = None
        self._dead_from: datetime | None = None
        self._retry_from: datetime | None = None
        self._stop = asyncio.Event()
        self._fallback: asyncio.Future[PlayResult] | None = None
        self._fetch: asyncio.Future[int] | None = None

    @property
    def started(self) -> bool:
        """True once any sound (stream or fallback) went out."""
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
        late_s = (self._clock.now() - self.window_start).total_seconds()
        if not self._joined and late_s > 1.0:
            # Learnt of late (or the agent was busy): a live stream is joined, not replayed.
            self.tally.note(f"joined {late_s:.0f} s into the window")
        self._joined = True
        if self._gap_start is not None:
            self._retry_from = self._clock.now()  # back from an emergency: try the stream
        try:
            if self._dead_before_window():
                await self._play_fallback(start_at=self.window_start)
            while not self._stop.is_set() and self.window_open:
                if await self._stream_spell():
                    await self._play_fallback()
        except HardwareFault as exc:
            self.tally.note(f"amplifier relay failed: {exc}")
        return self.tally

    def suspend(self, why: str) -> None:
        """An emergency took the air: the time until ``run`` resumes is a gap."""
        self.suspended_by = why
        if self._gap_start is None:
            self._open_gap(self._clock.now(), reason=why)
        else:
            self.tally.note(why)

    def finish(self) -> RelayTally:
        """Close the books (an open gap ends at the window's end, or now if earlier)."""
        if self._gap_start is not None:
            self._close_gap(self._clock.now())
        tally = self.tally
        for at, problem in self.monitor.problems:
            if at >= self.window_start:
                tally.note(problem)  # each distinct thing the stream did in the window
        window = self.spec.window_s
        tally.relayed_s = round(min(tally.relayed_s, window), 3)
        tally.fallback_s = round(min(tally.fallback_s, window), 3)
        tally.gap_s = round(min(tally.gap_s, window), 3)
        if self._fetch is not None:
            self._fetch.cancel()
        return tally

    def _dead_before_window(self) -> bool:
        """True when the prebuffer already showed the stream dead for ``dead_after_s``:
        the fallback then starts with the window, not ``dead_after_s`` into it."""
        monitor, now = self.monitor, self._clock.now()
        down = monitor.down_since
        if self.started or now >= self.window_start or monitor.up or monitor.has_frames:
            return False
        if down is None or down + self._dead_after > self.window_start:
            return False
        self._open_gap(self.window_start, down)
        return True

    # on air: the stream --------------------------------------------------------------

    async def _stream_spell(self) -> bool:
        """Relay the stream; True when it has been dead or silent long enough for the
        fallback, False at the window's end or on ``stop``."""
        async with self._gate as amplifier_on:
            self._amplifier(amplifier_on)
            await self._sink.open()
            try:
                return await self._relay_frames()
            finally:
                await self._sink.close()

    async def _relay_frames(self) -> bool:
        monitor, end = self.monitor, self.window_end
        if self._clock.now() < self.window_start:
            # Prepared early (amplifier warm): hold the first sample for the window.
            await wait_any([], self._stop.wait(), self._clock.sleep_until(self.window_start))
        monitor.skip_backlog()  # join live: older audio is not this window's
        audio_until = self._clock.now()  # when the audio handed to the sink runs out
        silent_s = 0.0
        while True:
            now = self._clock.now()
            if self._stop.is_set() or now >= end:
                self._unplayed(audio_until, silent_s)
                return False
            if self._gap_start is not None and now >= self._dead_deadline():
                return True
            down = not monitor.up and not monitor.has_frames
            if self._gap_start is None and down and now >= audio_until:
                self._open_gap(now, monitor.down_since)
                continue
            if self._gap_start is not None:
                wait_until = self._dead_deadline()
            elif down:
                wait_until = audio_until  # nothing more is coming: the gap starts then
            else:
                wait_until = audio_until + timedelta(seconds=STALL_GRACE_S)
            frame = await monitor.next_frame(min(wait_until, end), self._stop)
            if frame is None:
                if self._gap_start is None and self._clock.now() >= wait_until:
                    self._open_gap(audio_until, None if monitor.up else monitor.down_since)
                continue
            now = self._clock.now()
            if now >= end:
                continue  # it would sound after the window: not this relay's
            if not await self._write(frame):
                continue  # stopped while the sink was full: the loop's top ends the spell
            self._mark_started(now)
            audio_until = max(audio_until, now) + timedelta(seconds=frame.seconds)
            silent_s = self._count(frame, silent_s, now)
            if silent_s < 0:
                return True

    async def _write(self, frame: Frame) -> bool:
        """Hand a frame to the sink; False if ``stop`` came first (an emergency must
        not wait for the sink's buffer to drain)."""
        write = asyncio.ensure_future(self._sink.write(frame.pcm))
        await wait_any([write], self._stop.wait())
        if write.done():
            write.result()
            return True
        write.cancel()
        await asyncio.gather(write, return_exceptions=True)
        return False

    def _unplayed(self, audio_until: datetime, silent_s: float) -> None:
        """The spell ends now: audio still in the sink's buffer was never heard."""
        unheard = max(0.0, (audio_until - self._clock.now()).total_seconds())
        # A pause at the end is still programme, as far as it was heard.
        heard_silence = max(0.0, silent_s - unheard)
        unheard = max(0.0, unheard - silent_s)
        self.tally.relayed_s = max(0.0, self.tally.relayed_s + heard_silence - unheard)

    def _count(self, frame: Frame, silent_s: float, now: datetime) -> float:
        """Book one frame; the silence still pending, or -1 when the stream went silent."""
        if frame.level_db >= self.spec.silence_db:
            if self._gap_start is not None:
                self._close_gap(now)
            self.tally.relayed_s += silent_s + frame.seconds
            return 0.0
        if self._gap_start is not None:
            return 0.0  # dead air inside a gap is part of the gap
        silent_s += frame.seconds
        if silent_s < self.spec.dead_after_s:
            return silent_s
        began = now + timedelta(seconds=frame.seconds) - timedelta(seconds=silent_s)
        self._open_gap(began, reason=f"stream silent (below {self.spec.silence_db:g} dBFS)")
        return -1.0

    # on air: the fallback ------------------------------------------------------------

    async def _play_fallback(self, start_at: datetime | None = None) -> None:
        item, now = self.item, self._clock.now()
        self._retry_from = now
        if not self._media.has(item.media):
            self.tally.note("fallback media not cached")
            if self._fetch is None or self._fetch.done():
                self._fetch = asyncio.ensure_future(self._media.prefetch([item.media]))
            return
        path = self._media.path_for(item.media)
        play = asyncio.ensure_future(
            self._player.play(path, item.media.duration_s, self._mark_started, start_at)
        )
        self._fallback = play
        try:
            await wait_any([play], self._stop.wait(), self._clock.sleep_until(self.window_end))
            if not play.done():
                self._player.stop()  # the window closed (or we were stopped) mid-fallback
            result = await play
        except Exception as exc:  # a player bug must not end the relay
            log.exception("relay %s: fallback failed", item.item_id)
            self.tally.note(f"fallback failed: {type(exc).__name__}: {exc}")
            return
        finally:
            self._fallback = None
            self._retry_from = self._clock.now()
        self.tally.fallback_s += result.played_s
        self.tally.fallback_used = self.tally.fallback_used or result.started_at is not None
        self._amplifier(result.amplifier_on)
        if result.error:
            self.tally.note(f"fallback: {result.error}")

    # books ---------------------------------------------------------------------------

    def _dead_deadline(self) -> datetime:
        assert self._dead_from is not None
        return max(self._dead_from, self._retry_from or self._dead_from) + self._dead_after

    def _open_gap(
        self, at: datetime, dead_since: datetime | None = None, *, reason: str | None = None
    ) -> None:
        """A gap from ``at`` (never before the window); deadness may date from earlier."""
        down = None if self.monitor.up else self.monitor.problem
        self.tally.note(reason or down or "stream stalled")
        self._gap_start = max(at, self.window_start)
        self._dead_from = min(self._gap_start, dead_since or self._gap_start)
        self._retry_from = None
        self.tally.gap_count += 1

    def _close_gap(self, at: datetime) -> None:
        assert self._gap_start is not None
        end = min(at, self.window_end)
        self.tally.gap_s += max(0.0, (end - self._gap_start).total_seconds())
        self._gap_start = self._dead_from = self._retry_from = None

    def _mark_started(self, at: datetime) -> None:
        if self.tally.actual_start is None:
            self.tally.actual_start = at
            if self.on_started is not None:
                self.on_started(at)

    def _amplifier(self, verdict: bool | None) -> None:
        if verdict is not None:
            current = self.tally.amplifier_on
            self.tally.amplifier_on = verdict if current is None else current and verdict


def relay_facts(
    run: RelayRun,
    interrupt: tuple[Outcome, str] | None,
    plan_version: int | None,
    volume: int | None,
) -> PlayFacts:
    """The evidence of a finished relay.

    Outcome: the interruption's (PREEMPTED, or PARTIAL for a stop) if one ended it;
    else COMPLETED when at least 95 % of the window was relayed; else PARTIAL when
    anything (stream or fallback) played; else FAILED. The reason says what went
    wrong, in the stream's own words where it gave any.
    """
    tally = run.finish()
    window = run.spec.window_s
    if interrupt is not None:
        outcome, lead = interrupt
    elif tally.relayed_s >= COMPLETE_SHARE * window:
        outcome, lead = Outcome.COMPLETED, None
    elif tally.relayed_s > 0 or tally.fallback_s > 0:
        outcome, lead = Outcome.PARTIAL, None
    else:
        outcome, lead = Outcome.FAILED, "nothing relayed and no fallback played"
    parts = [lead] if lead else []
    if outcome is not Outcome.COMPLETED or tally.gap_count or tally.problems:
        parts.append(f"relayed {tally.relayed_s:.1f} of {window:g} s")
        if tally.gap_count:
            parts.append(f"{tally.gap_count} gap(s) totalling {tally.gap_s:.1f} s")
        if tally.fallback_used:
            parts.append(f"fallback played {tally.fallback_s:.1f} s")
        parts += tally.problems
    stats = RelayStats(
        stream_url=run.spec.url,
        relayed_s=tally.relayed_s,
        gap_count=tally.gap_count,
        gap_s=tally.gap_s,
        reconnects=run.monitor.reconnects,
        fallback_used=tally.fallback_used,
        fallback_s=tally.fallback_s,
    )
    return PlayFacts(
        outcome,
        "; ".join(parts) or None,
        actual_start=tally.actual_start,
        played_s=tally.relayed_s + tally.fallback_s,
        plan_version=plan_version,
        amplifier_on=tally.amplifier_on,
        volume=volume,
        relay=stats,
    )


class RelayDesk:
    """Every relay of one agent: their monitors (from prebuffer time) and suspended runs."""

    def __init__(
        self,
        *,
        opener: StreamOpener,
        sink: PcmSink,
        player: Player,
        media: MediaCache,
        clock: Clock,
        gate: AmplifierGate,
        rate_hz: int = DEFAULT_RATE_HZ,
    ) -> None:
        self._opener = opener
        self._sink = sink
        self._player = player
        self._media = media
        self._clock = clock
        self._gate = gate
        self._rate_hz = rate_hz
        self._monitors: dict[str, StreamMonitor] = {}
        self._suspended: dict[str, RelayRun] = {}

    def watch(self, item: PlanItem) -> None:
        """Start ``item``'s monitor (it connects ``prebuffer_s`` before the window)."""
        if item.relay is None or item.item_id in self._monitors:
            return
        end = item.planned_start + timedelta(seconds=item.relay.window_s)
        if self._clock.now() >= end:
            return
        monitor = StreamMonitor(
            item.relay,
            self._opener,
            self._clock,
            connect_at=item.planned_start - timedelta(seconds=item.relay.prebuffer_s),
            until=end,
            rate_hz=self._rate_hz,
        )
        self._monitors[item.item_id] = monitor
        monitor.start()

    def run_for(self, item: PlanItem) -> RelayRun:
        """The run for ``item``: the suspended one, or a new one on its monitor."""
        run = self._suspended.pop(item.item_id, None)
        if run is not None:
            return run
        self.watch(item)
        monitor = self._monitors.get(item.item_id)
        if monitor is None:  # the window is over already: a run that finds nothing
            monitor = StreamMonitor(
                _spec(item),
                self._opener,
                self._clock,
                connect_at=self._clock.now(),
                until=self._clock.now(),
                rate_hz=self._rate_hz,
            )
        return RelayRun(
            item,
            monitor,
            sink=self._sink,
            player=self._player,
            media=self._media,
            clock=self._clock,
            gate=self._gate,
        )

    def suspend(self, run: RelayRun, why: str) -> None:
        """Keep ``run`` (and its connection) for when the emergency is over."""
        run.suspend(why)
        self._suspended[run.item.item_id] = run

    def take_suspended(self, item_id: str) -> RelayRun | None:
        """Remove and return a suspended run (to record it)."""
        return self._suspended.pop(item_id, None)

    def suspended_ids(self) -> list[str]:
        """Items whose relay waits for an emergency to end."""
        return list(self._suspended)

    def release(self, item_id: str) -> None:
        """Close ``item_id``'s stream: it is recorded, stopped or no longer planned."""
        self._suspended.pop(item_id, None)
        monitor = self._monitors.pop(item_id, None)
        if monitor is not None:
            monitor.cancel()

    def close(self) -> None:
        """Close every stream (agent stopping)."""
        for item_id in list(self._monitors):
            self.release(item_id)
