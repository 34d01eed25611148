"""Evidence in batches: the per-event path's decisions, with a batch's worth of statements.

``service.record_event`` is the reference: one event, about twelve statements (its
duplicate checks, its planned play, the insert, the chain row read ``FOR UPDATE``, the
chain walk and the gap check). Ingest stores up to 500 events in one transaction, so
this module takes them together: it reads what the batch needs once (the events and
sequence numbers already held, the planned plays, each device's chain row — locked,
as the per-event path does — its links past the whole prefix and its open gaps),
decides every event in arrival order in memory exactly as ``record_event`` would,
and writes with bulk statements: evidence, refused events, gaps, chain rows (inserted
or updated, all at once), one rollup mark per (ward, day), one progress note per
broadcast. Rows are read and written as plain values, not ORM objects (a batch built
and flushed 500 of them), and sets of keys go to PostgreSQL as one array
(``controller.db.among``), not one placeholder each.

Whatever ``record_event`` would refuse by raising (an event naming another device, a
sequence number already held by another event: a fork) raises here too, and the
caller stores the batch again event by event, where each such event is refused on
its own. ``tests/unit/test_evidence_batch.py`` stores one sequence both ways and
compares the databases.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from controller.db.among import among
from controller.db.models import Device, EvidenceGap, SecurityRecord
from controller.domain.broadcasts.milestones import note_evidence
from controller.domain.errors import InvalidInput
from controller.domain.evidence import security
from controller.domain.evidence.batch_store import (
    Arrival,
    ChainRow,
    Known,
    insert_evidence,
    load,
    plans,
    write_chains,
)
from controller.domain.evidence.service import SequenceReused, Stored, record_rejection
from controller.domain.reports.rollups import dirty as rollups
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import PlaybackEvent, Trigger

log = logging.getLogger(__name__)


def record_events(session: Session, arrivals: Sequence[Arrival], now: datetime) -> list[Stored]:
    """Store a batch of verified events; what ``record_event`` would say of each, in order.

    Raises ``InvalidInput`` (as ``record_event`` does) when one event must be refused:
    the caller then stores the batch event by event.
    """
    for verified, device_id in arrivals:
        if verified.body.device_id != device_id:
            raise InvalidInput(
                f"event names device {verified.body.device_id!r} on {device_id!r}'s topic"
            )
    devices = load(session, arrivals, now)
    planned = plans(session, arrivals)
    wards: dict[str, tuple[str | None, str | None]] = {
        device_id: (ward_code, group_code)
        for device_id, ward_code, group_code in session.execute(
            select(Device.id, Device.ward_code, Device.group_code).where(
                among(session, Device.id, devices)
            )
        )
    }
    evidence: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    broadcasts: set[str] = set()
    results: list[Stored] = []
    for verified, device_id in arrivals:
        event, known = verified.body, devices[device_id]
        if event.event_id in known.evidence_ids:
            results.append(Stored.DUPLICATE)
            continue
        if event.event_id in known.refused_ids:
            results.append(Stored.REFUSED)
            continue
        taken = known.evidence_seqs.get(event.seq) or known.refused_seqs.get(event.seq)
        if taken is not None:
            raise SequenceReused(
                f"seq {event.seq} of {device_id} is already event {taken}; "
                f"{event.event_id} would fork the chain"
            )
        plan = planned.get((device_id, event.item_id))
        digest = verified.digest  # a sha256 of the signed bytes: once, not per use
        why = security.why_not_answer(plan.broadcast_id if plan else None, event)
        if why is not None:
            refused.append(_refused_row(verified, digest, device_id, why, now))
            known.refused_ids.add(event.event_id)
            known.refused_seqs[event.seq] = event.event_id
            _advance(session, known, verified, digest, device_id, now)
            results.append(Stored.REFUSED)
            continue
        ward_code, group_code = wards.get(device_id, (None, None))
        evidence.append(_evidence_row(verified, digest, device_id, ward_code, group_code, now))
        known.evidence_ids.add(event.event_id)
        known.evidence_seqs[event.seq] = event.event_id
        rollups.mark(session, ward_code, event.planned_start)  # deduped per transaction
        if plan is not None:
            rollups.mark(session, plan.ward_code, plan.planned_start)
        if event.trigger is not Trigger.PROGRAMME:
            broadcasts.add(event.broadcast_id)
        _advance(session, known, verified, digest, device_id, now)
        results.append(Stored.NEW)
    if refused:
        session.execute(insert(SecurityRecord), refused)
    if evidence:
        insert_evidence(session, evidence)
    write_chains(session, devices.values())
    # Once per broadcast per batch, by id: one UPDATE for several would lock their rows in
    # the table's physical order, which replicas' two transactions may see differently
    # (an updated row moves), and deadlock.
    for broadcast_id in sorted(broadcasts):
        note_evidence(session, broadcast_id, now)
    # Gaps now, not at the commit: anything that fails does so here, where the caller
    # can still store the batch one by one.
    session.flush()
    return results


def _advance(
    session: Session,
    known: Known,
    verified: Verified[PlaybackEvent],
    digest: str,
    device_id: str,
    now: datetime,
) -> None:
    """``chain.advance`` in memory: the gap this link opens, the prefix walk, gaps filled."""
    seq = verified.body.seq
    if known.chain is None:
        # Created by ``create_chains`` before the batch locked it; only a row deleted
        # meanwhile lands here (inserted with the batch: a clash fails it, one by one then).
        known.chain = ChainRow(device_id, 0, "", 0, now, new=True)
    chain = known.chain
    chain.moved = True
    known.links[seq] = (verified.body.prev_hash, digest)
    if seq > chain.highest_seq + 1:
        gap = EvidenceGap(
            device_id=device_id, from_seq=chain.highest_seq + 1, to_seq=seq - 1, detected_at=now
        )
        session.add(gap)
        known.gaps.append(gap)
        log.warning("evidence gap for %s: seqs %s", device_id, [(gap.from_seq, gap.to_seq)])
    chain.highest_seq = max(chain.highest_seq, seq)
    broken: list[int] = []
    while chain.contiguous_seq + 1 in known.links:
        prev_hash, digest = known.links.pop(chain.contiguous_seq + 1)
        if prev_hash != chain.contiguous_digest:
            broken.append(chain.contiguous_seq + 1)
        chain.contiguous_seq, chain.contiguous_digest = chain.contiguous_seq + 1, digest
    chain.updated_at = now
    for gap in known.gaps:
        if gap.resolved_at is None and all(
            known.holds(s) for s in range(gap.from_seq, gap.to_seq + 1)
        ):
            gap.resolved_at = now
    known.gaps = [g for g in known.gaps if g.resolved_at is None]
    for broken_seq in broken:
        record_rejection(
            session,
            f"device/{device_id}/chain",
            device_id,
            "chain_broken",
            f"event seq {broken_seq} does not name the digest of seq {broken_seq - 1}: "
            "altered or forked",
            verified.signed.encode("utf-8"),
            now,
        )


def _evidence_row(
    verified: Verified[PlaybackEvent],
    digest: str,
    device_id: str,
    ward_code: str | None,
    group_code: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The evidence row ``record_event`` would add, as values for a bulk insert."""
    event, relay = verified.body, verified.body.relay
    return {
        "device_id": device_id,
        "ward_code": ward_code,
        "group_code": group_code,
        "session_key": event.session_key,
        "relayed_s": relay.relayed_s if relay else None,
        "relay_gap_s": relay.gap_s if relay else None,
        "fallback_s": relay.fallback_s if relay else None,
        "event_id": event.event_id,
        "seq": event.seq,
        "prev_hash": event.prev_hash,
        "digest": digest,
        "item_id": event.item_id,
        "broadcast_id": event.broadcast_id,
        "bulletin_id": event.bulletin_id,
        "trigger": event.trigger.value,
        "priority": event.priority.value,
        "source_level": event.source_level.value,
        "media_sha256": event.media_sha256,
        "planned_start": event.planned_start,
        "planned_duration_s": event.planned_duration_s,
        "actual_start": event.actual_start,
        "played_duration_s": event.played_duration_s,
        "outcome": event.outcome.value,
        "reason": event.reason,
        "plan_version": event.plan_version,
        "amplifier_on": event.amplifier_on,
        "volume": event.volume,
        "recorded_at": event.recorded_at,
        "received_at": now,
        "signed": verified.signed,
        "sig": verified.sig,
    }


def _refused_row(
    verified: Verified[PlaybackEvent],
    digest: str,
    device_id: str,
    why: tuple[str, str],
    now: datetime,
) -> dict[str, Any]:
    """The security record ``security.refuse_event`` would add, as insert values."""
    event = verified.body
    reason, detail = why
    log.warning("security: %s event %s refused: %s", device_id, event.event_id, detail)
    return {
        "received_at": now,
        "device_id": device_id,
        "origin": security.CONTROLLER,
        "reason": reason,
        "detail": f"event {event.event_id} ({event.outcome.value}) refused as evidence: {detail}"[
            :1000
        ],
        "occurred_at": event.recorded_at,
        "item_id": event.item_id,
        "broadcast_id": event.broadcast_id,
        "event_id": event.event_id,
        "seq": event.seq,
        "prev_hash": event.prev_hash,
        "digest": digest,
        "signed": verified.signed,
        "sig": verified.sig,
    }
