"""The books of one relay window: what the stream, its outages and the fallback took.

Every figure is seconds of the window *as heard*: a frame counts from the instant it
starts to play (when the audio before it in the sink runs out, not when it was
written) to the instant it ends, or the instant the sink was closed under it. So the
evidence agrees with the samples the loudspeaker got, which the unit tests check by
counting them.

- **relayed**: stream audio heard: sound at or above ``silence_db``, and pauses
  shorter than ``dead_after_s`` between sounds (they are programme).
- a **gap** is one outage: it opens when the stream stops giving sound (dropped,
  stalled, refused, silent for ``dead_after_s``, an emergency on the air) and closes
  only when the stream is back, i.e. has played ``RECOVER_S`` of sound in a row; it
  then ends where that run began. Sound that played inside an outage without
  becoming a recovery (a flicker) is relayed, not gap, so relayed + gap is the time
  since the relay joined the window, whatever the stream did.
- **fallback**: seconds of the local fallback the player played.
- **actual start**: when the first audible sound went out: stream sound (or the
  programme pause just before it), or the fallback's first sample.
- **problems**: what went wrong and when; the reason lists them in time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

RECOVER_S = 2.0  # sound in a row that shows a stream is back after an outage
_CONTIGUOUS = timedelta(milliseconds=50)  # frames closer than this play back to back

Kind = Literal["relayed", "flicker", "pause"]


@dataclass
class _Scheduled:
    """Audio handed to the sink that may still be cut before it is heard."""

    start: datetime
    end: datetime
    kind: Kind


@dataclass
class RelayTally:
    """A relay window's books; ``sound``/``silence``/``cut`` keep them as frames play."""

    window_start: datetime
    window_end: datetime
    relayed_s: float = 0.0
    gap_count: int = 0
    gap_s: float = 0.0
    fallback_s: float = 0.0
    fallback_used: bool = False
    actual_start: datetime | None = None
    amplifier_on: bool | None = None
    problems: list[tuple[datetime | None, str]] = field(default_factory=list)
    gap_from: datetime | None = None
    _flicker_s: float = 0.0  # sound heard inside the open gap
    _run: tuple[datetime, datetime] | None = None  # sound in a row inside the gap
    _pause: tuple[datetime, float] | None = None  # silence pending between sounds
    _scheduled: list[_Scheduled] = field(default_factory=list)

    # what went wrong -----------------------------------------------------------------

    def note(self, text: str | None, at: datetime | None = None) -> None:
        """Keep a problem for the reason; without ``at`` it goes after the timed ones."""
        if text:
            self.problems.append((at, text))

    def reasons(self) -> list[str]:
        """Distinct problems in the order they happened."""
        timed = sorted(self.problems, key=lambda p: (p[0] is None, p[0] or self.window_start))
        seen: list[str] = []
        for _, text in timed:
            if text not in seen:
                seen.append(text)
        return seen

    # gaps ----------------------------------------------------------------------------

    @property
    def in_gap(self) -> bool:
        """True while an outage is open."""
        return self.gap_from is not None

    def open_gap(self, at: datetime) -> bool:
        """An outage from ``at`` (never before the window; a pause just before it is
        part of it); False if one is open already (it is the same outage)."""
        if self.gap_from is not None:
            return False
        if self._pause is not None:
            at = min(at, self._pause[0])
            self._drop_scheduled("pause")
            self._pause = None
        self.gap_from = max(at, self.window_start)
        self.gap_count += 1
        self._flicker_s, self._run = 0.0, None
        return True

    def close_gap(self, at: datetime) -> None:
        """The outage ends at ``at`` (or the window's end): book its seconds."""
        if self.gap_from is None:
            return
        end = min(max(at, self.gap_from), self.window_end)
        span = (end - self.gap_from).total_seconds()
        self.gap_s += max(0.0, span - self._flicker_s)
        self.gap_from, self._flicker_s, self._run = None, 0.0, None
        for entry in self._scheduled:
            if entry.kind == "flicker":
                entry.kind = "relayed"

    # stream audio --------------------------------------------------------------------

    def sound(self, start: datetime, seconds: float, now: datetime) -> bool:
        """Stream sound (written at ``now``) plays from ``start``; True when it closed
        an outage (the stream is back)."""
        self._forget_heard(now)
        end = start + timedelta(seconds=seconds)
        self.relayed_s += seconds
        if self.gap_from is None:
            began = start
            if self._pause is not None:  # the pause was programme after all
                began = self._pause[0]
                self.relayed_s += self._pause[1]
                for entry in self._scheduled:
                    if entry.kind == "pause":
                        entry.kind = "relayed"
                self._pause = None
            self._schedule(start, end, "relayed")
            self.started(began)
            return False
        self._flicker_s += seconds
        self._schedule(start, end, "flicker")
        self.started(start)
        if self._run is None or start > self._run[1] + _CONTIGUOUS:
            self._run = (start, end)
        else:
            self._run = (self._run[0], end)
        run_from, run_to = self._run
        if (run_to - run_from).total_seconds() < RECOVER_S - 1e-6:
            return False
        # Back: the outage ended where this run began; the run itself is programme.
        self._flicker_s -= (run_to - run_from).total_seconds()
        self.close_gap(run_from)
        return True

    def silence(
        self, start: datetime, seconds: float, now: datetime, dead_after_s: float
    ) -> datetime | None:
        """Stream silence (written at ``now``) plays from ``start``; the instant it
        began when it has lasted ``dead_after_s`` (the caller then opens the outage)."""
        self._forget_heard(now)
        if self.gap_from is not None:
            self._run = None  # silence breaks a recovery: dead air is still the outage
            return None
        end = start + timedelta(seconds=seconds)
        began, pending = self._pause or (start, 0.0)
        pending += seconds
        self._pause = (began, pending)
        self._schedule(start, end, "pause")
        if pending < dead_after_s - 1e-6:
            return None
        return began

    def cut(self, now: datetime) -> None:
        """The sink closes at ``now``: audio not yet heard never was."""
        for entry in self._scheduled:
            if entry.end <= now:
                continue
            unheard = (entry.end - max(entry.start, now)).total_seconds()
            if entry.kind == "pause" and self._pause is not None:
                self._pause = (self._pause[0], self._pause[1] - unheard)
            else:
                self.relayed_s -= unheard
                if entry.kind == "flicker":
                    self._flicker_s -= unheard
        self._scheduled.clear()
        if self._pause is not None:
            # A pause at the end is still programme, as far as it was heard.
            self.relayed_s += max(0.0, self._pause[1])
            self._pause = None
        self._run = None

    # the rest ------------------------------------------------------------------------

    def fallback(self, started_at: datetime | None, played_s: float) -> None:
        """The fallback played ``played_s`` from ``started_at`` (None: it never started)."""
        self.fallback_s += played_s
        if started_at is not None:
            self.fallback_used = True
            self.started(started_at)

    def started(self, at: datetime) -> None:
        """Audible sound went out at ``at`` (the first time counts)."""
        if self.actual_start is None:
            self.actual_start = at

    def amplifier(self, verdict: bool | None) -> None:
        """Combine the current sensor's verdicts: off once is off."""
        if verdict is not None:
            current = self.amplifier_on
            self.amplifier_on = verdict if current is None else current and verdict

    def close(self, now: datetime, window_s: float) -> None:
        """Close the books: an open outage ends now (or at the window's end)."""
        self.cut(now)
        self.close_gap(now)
        self.relayed_s = round(min(max(0.0, self.relayed_s), window_s), 3)
        self.fallback_s = round(min(self.fallback_s, window_s), 3)
        self.gap_s = round(min(self.gap_s, window_s), 3)

    def _schedule(self, start: datetime, end: datetime, kind: Kind) -> None:
        self._scheduled.append(_Scheduled(start, end, kind))

    def _forget_heard(self, now: datetime) -> None:
        if self._scheduled and self._scheduled[0].end <= now:
            self._scheduled = [e for e in self._scheduled if e.end > now]

    def _drop_scheduled(self, kind: Kind) -> None:
        self._scheduled = [e for e in self._scheduled if e.kind != kind]
