"""Playback evidence: build, chain, sign and durably store each event before it is sent.

Each event names the sha256 of the previous event's signed document (``prev_hash``)
and carries the next sequence number, so a gap or an edit shows when an evaluator
checks the chain. The chain head lives in the outbox and advances in the same
transaction that stores the event.

If the outbox cannot be written (a full SD card), the event is kept in memory and
the write retried later: playing goes on, and nothing is published before it is on
disk, because a published event whose ``seq`` the device forgot after a restart
would fork the chain.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime

from edge_agent.outbox import Outbox
from edge_agent.outbox_rows import StoredEvent
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import seal_signed, signed_digest
from wardcast_protocol.messages import Kind, Outcome, PlanItem, PlaybackEvent, RelayStats
from wardcast_protocol.signing import SigningKey

log = logging.getLogger(__name__)

_MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class _Unwritten:
    stored: StoredEvent
    item_id: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class PlayFacts:
    """What happened to one item, as the agent observed it."""

    outcome: Outcome
    reason: str | None = None
    actual_start: datetime | None = None
    played_s: float = 0.0
    plan_version: int | None = None
    amplifier_on: bool | None = None
    volume: int | None = None
    relay: RelayStats | None = None


def facts_to_json(facts: PlayFacts) -> str:
    """``facts`` as JSON, for the journal row of a play that ended (see ``facts_from_json``)."""
    return json.dumps(
        {
            "outcome": facts.outcome.value,
            "reason": facts.reason,
            "actual_start": facts.actual_start.isoformat() if facts.actual_start else None,
            "played_s": facts.played_s,
            "plan_version": facts.plan_version,
            "amplifier_on": facts.amplifier_on,
            "volume": facts.volume,
            "relay": facts.relay.model_dump(mode="json") if facts.relay else None,
        }
    )


def facts_from_json(text: str) -> PlayFacts:
    """The facts ``facts_to_json`` wrote; ValueError (or a subclass) if they are not."""
    data = json.loads(text)
    start = data["actual_start"]
    return PlayFacts(
        Outcome(data["outcome"]),
        data["reason"],
        actual_start=datetime.fromisoformat(start) if start else None,
        played_s=float(data["played_s"]),
        plan_version=data["plan_version"],
        amplifier_on=data["amplifier_on"],
        volume=data["volume"],
        relay=RelayStats.model_validate(data["relay"]) if data["relay"] else None,
    )


class EvidenceLog:
    """The device's chain of signed playback events."""

    def __init__(self, outbox: Outbox, key: SigningKey, device_id: str, clock: Clock) -> None:
        self._outbox = outbox
        self._key = key
        self._device_id = device_id
        self._clock = clock
        self._seq, self._digest = outbox.chain_head()
        self._unwritten: list[_Unwritten] = []

    @property
    def last_seq(self) -> int:
        """Sequence number of the last event built (written or not)."""
        return self._seq

    @property
    def unwritten(self) -> int:
        """Events built but not yet on disk (the disk was full)."""
        return len(self._unwritten)

    def record(self, item: PlanItem, facts: PlayFacts) -> tuple[PlaybackEvent, list[StoredEvent]]:
        """Build, seal and store the next event for ``item``.

        Returns the event and the stored events now ready to publish: this one, after
        any earlier ones whose write had failed, or none if the disk is still full.
        """
        now = self._clock.now()
        reason = facts.reason[:_MAX_REASON] if facts.reason else None
        # A relay's planned length is its window; its media is only the fallback, named
        # in the evidence only when the fallback was actually played.
        planned_s = item.relay.window_s if item.relay else item.media.duration_s
        media: str | None = item.media.sha256
        if item.relay is not None and not (facts.relay and facts.relay.fallback_used):
            media = None
        event = PlaybackEvent(
            event_id=uuid.uuid4().hex,
            device_id=self._device_id,
            seq=self._seq + 1,
            prev_hash=self._digest,
            item_id=item.item_id,
            broadcast_id=item.broadcast_id,
            bulletin_id=item.bulletin_id,
            trigger=item.trigger,
            priority=item.priority,
            source_level=item.source_level,
            media_sha256=media,
            planned_start=item.planned_start,
            planned_duration_s=planned_s,
            actual_start=facts.actual_start,
            played_duration_s=round(max(0.0, facts.played_s), 3),
            outcome=facts.outcome,
            reason=reason,
            plan_version=facts.plan_version,
            amplifier_on=facts.amplifier_on,
            volume=facts.volume,
            relay=facts.relay,
            session_key=item.session_key,
            recorded_at=now,
        )
        wire, signed = seal_signed(Kind.EVENT, event, self._device_id, self._key, now)
        stored = StoredEvent(event.seq, event.event_id, wire, signed_digest(signed))
        # The chain advances in memory at once: the next event must follow this one
        # whether or not the disk took it yet.
        self._seq, self._digest = stored.seq, stored.digest
        self._unwritten.append(_Unwritten(stored, item.item_id, now))
        return event, self.flush()

    def flush(self) -> list[StoredEvent]:
        """Write events still in memory, in order; return those now on disk."""
        written: list[StoredEvent] = []
        while self._unwritten:
            head = self._unwritten[0]
            try:
                self._outbox.append(head.stored, head.item_id, head.recorded_at)
            except sqlite3.Error as exc:
                log.error(
                    "%s: could not store event seq %d (%s); kept in memory (%d waiting), "
                    "will retry",
                    self._device_id,
                    head.stored.seq,
                    exc,
                    len(self._unwritten),
                )
                break
            self._unwritten.pop(0)
            written.append(head.stored)
        return written
