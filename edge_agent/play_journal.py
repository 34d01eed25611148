"""The journal of plays in progress, as playback writes it (rows in the ``outbox``).

A row is written before a play starts (synchronously: a crash after the first sample
must find it), then notes the first sample and, every ``progress_s``, that the play
still sounds. Those two notes wait off the timing path (``timing.deferred``): a
thousand agents on one loop tick at the same instants, and their rows wait for the
starts. A failing write never stops a play; only a crash report would be coarser.

A play cut by a crash or power cut is reported at the next start
(``interrupted_play_facts``) as FAILED with the seconds it really played, to within
``progress_s``: a crash is a failure of the device, and the ticks prove how much
sounded before it, not that the rest did. A play that ended notes how (its facts) in
its row at once, before its event is written off the timing path: a crash in
between is reported with that outcome.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime
from functools import partial

from edge_agent.evidence import PlayFacts, facts_from_json, facts_to_json
from edge_agent.outbox import Outbox
from edge_agent.outbox_rows import JournalRow, item_json
from edge_agent.timing import deferred, leave
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Outcome, PlanItem

log = logging.getLogger(__name__)

RESTART_REASON = "agent restarted during playback"


def interrupted_play_facts(row: JournalRow) -> PlayFacts:
    """What a journal row a crash left behind proves: how the play ended, if it did and
    said so before its event was written; else that it began, and sounded so long."""
    if row.ended_json is not None:
        try:
            return facts_from_json(row.ended_json)
        except (ValueError, KeyError, TypeError) as exc:  # a torn or foreign note
            log.error("journal of %s: unreadable end (%s); reported as cut", row.item_id, exc)
    return PlayFacts(
        Outcome.FAILED,
        RESTART_REASON,
        actual_start=row.sounding_at or row.started_at,
        played_s=round(row.played_s, 3),
        plan_version=row.plan_version,
    )


class PlayJournal:
    """One agent's journal rows, and its work deferred off the timing path."""

    def __init__(self, device_id: str, outbox: Outbox, clock: Clock) -> None:
        self._device_id = device_id
        self._outbox = outbox
        self._clock = clock

    def start(self, item: PlanItem, start: datetime, plan_version: int | None) -> None:
        """A play is about to start (its row, written now)."""
        try:
            self._outbox.journal_start(item.item_id, start, item_json(item), plan_version)
        except sqlite3.Error as exc:
            log.error(
                "%s: could not journal %s: %s; playing on", self._device_id, item.item_id, exc
            )

    def sounding_later(self, item_id: str, at: datetime) -> None:
        """Its first sample went out at ``at`` (written after the starts)."""
        self._later(self._outbox.journal_sounding, item_id, at)

    def progress_later(self, item_id: str, at: datetime) -> None:
        """It still sounded at ``at`` (written after the starts)."""
        self._later(self._outbox.journal_progress, item_id, at)

    def end(self, item_id: str, facts: PlayFacts) -> None:
        """It ended so (written now, synchronously: its event waits off the timing path,
        and a crash meanwhile must not turn a play that completed into a failure)."""
        try:
            self._outbox.journal_end(item_id, facts_to_json(facts))
        except sqlite3.Error as exc:
            log.error("%s: could not note the end of %s: %s", self._device_id, item_id, exc)

    def forget(self, item_id: str) -> None:
        """It never sounded: no row to report after a crash."""
        try:
            self._outbox.journal_cancel(item_id)
        except sqlite3.Error as exc:
            log.error("%s: could not clear journal of %s: %s", self._device_id, item_id, exc)

    def flush(self) -> None:
        """Write now what waits off the timing path (journal notes, events): stopping."""
        deferred(self._clock).flush(self._device_id)

    def discard(self) -> None:
        """Forget what waits off the timing path, as a crash would (the journal keeps
        the play; the next start reports it)."""
        deferred(self._clock).discard(self._device_id)
        leave(self._clock, self._device_id)

    def _later(self, write: Callable[[str, datetime], None], item_id: str, at: datetime) -> None:
        deferred(self._clock).add(self._device_id, partial(self._write, write, item_id, at))

    def _write(self, write: Callable[[str, datetime], None], item_id: str, at: datetime) -> None:
        try:
            write(item_id, at)
        except sqlite3.Error as exc:  # the play goes on; only the crash report is coarser
            log.error("%s: could not note progress of %s: %s", self._device_id, item_id, exc)
