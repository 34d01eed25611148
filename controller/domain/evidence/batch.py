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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from controller.db.among import among
from controller.db.models import (
    Device,
    DeviceChain,
    EvidenceGap,
    PlannedPlay,
    PlaybackEvidence,
    SecurityRecord,
)
from controller.domain.broadcasts.progress import note_evidence_of
from controller.domain.errors import InvalidInput
from controller.domain.evidence import security
from controller.domain.evidence.service import SequenceReused, Stored, record_rejection
from controller.domain.reports.rollups import dirty as rollups
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import PlaybackEvent, Trigger

log = logging.getLogger(__name__)

Arrival = tuple[Verified[PlaybackEvent], str]
"""A verified event and the device whose topic it came on."""


@dataclass
class _Chain:
    """A device's chain row (``DeviceChain``) as plain values; ``new``: not stored yet."""

    device_id: str
    contiguous_seq: int
    contiguous_digest: str
    highest_seq: int
    updated_at: datetime
    new: bool = False
    moved: bool = False  # changed by the batch: written back

    def values(self) -> dict[str, Any]:
        """The row, for a bulk insert or update."""
        return {
            "device_id": self.device_id,
            "contiguous_seq": self.contiguous_seq,
            "contiguous_digest": self.contiguous_digest,
            "highest_seq": self.highest_seq,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class _Plan:
    """What the batch needs of a planned play."""

    broadcast_id: str
    ward_code: str | None
    planned_start: datetime


@dataclass
class _Device:
    """What the batch knows of one device's chain, kept current as events are decided."""

    chain: _Chain | None
    links: dict[int, tuple[str, str]]  # seq -> (prev_hash, digest), past the whole prefix
    gaps: list[EvidenceGap]  # open gaps, oldest first
    evidence_ids: set[str] = field(default_factory=set)
    refused_ids: set[str] = field(default_factory=set)
    evidence_seqs: dict[int, str] = field(default_factory=dict)  # seq -> event id
    refused_seqs: dict[int, str] = field(default_factory=dict)

    def holds(self, seq: int) -> bool:
        """True when the controller holds link ``seq`` (evidence or refused)."""
        return (self.chain is not None and seq <= self.chain.contiguous_seq) or seq in self.links


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
    devices = _load(session, arrivals)
    plans = _plans(session, arrivals)
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
        plan = plans.get((device_id, event.item_id))
        why = security.why_not_answer(plan.broadcast_id if plan else None, event)
        if why is not None:
            refused.append(_refused_row(verified, device_id, why, now))
            known.refused_ids.add(event.event_id)
            known.refused_seqs[event.seq] = event.event_id
            _advance(session, known, verified, device_id, now)
            results.append(Stored.REFUSED)
            continue
        ward_code, group_code = wards.get(device_id, (None, None))
        evidence.append(_evidence_row(verified, device_id, ward_code, group_code, now))
        known.evidence_ids.add(event.event_id)
        known.evidence_seqs[event.seq] = event.event_id
        rollups.mark(session, ward_code, event.planned_start)  # deduped per transaction
        if plan is not None:
            rollups.mark(session, plan.ward_code, plan.planned_start)
        if event.trigger is not Trigger.PROGRAMME:
            broadcasts.add(event.broadcast_id)
        _advance(session, known, verified, device_id, now)
        results.append(Stored.NEW)
    if refused:
        session.execute(insert(SecurityRecord), refused)
    if evidence:
        _insert_evidence(session, evidence)
    _write_chains(session, devices.values())
    note_evidence_of(session, broadcasts, now)  # once per ingest batch, one statement
    # Gaps now, not at the commit: a replica's concurrent first chain row failed above,
    # and anything else fails here, where the caller can still store the batch one by one.
    session.flush()
    return results


def _load(session: Session, arrivals: Sequence[Arrival]) -> dict[str, _Device]:
    """Each device's chain (locked), links past its prefix, open gaps and ids held."""
    device_ids = sorted({device_id for _, device_id in arrivals})
    c = DeviceChain
    chains = {
        row.device_id: _Chain(
            row.device_id,
            row.contiguous_seq,
            row.contiguous_digest,
            row.highest_seq,
            row.updated_at,
        )
        for row in session.execute(
            select(c.device_id, c.contiguous_seq, c.contiguous_digest, c.highest_seq, c.updated_at)
            .where(among(session, c.device_id, device_ids))
            .order_by(c.device_id)
            .with_for_update()
        )
    }
    devices = {d: _Device(chains.get(d), {}, []) for d in device_ids}
    event_ids = {v.body.event_id for v, _ in arrivals}
    seqs = {v.body.seq for v, _ in arrivals}
    # One read per table: the links past each device's prefix, and whatever holds one of
    # the batch's event ids or sequence numbers (device x id is a superset of the
    # batch's pairs; every row found is a true fact of its own device, so a row found
    # for one reason may safely serve the other).
    for device_id, event_id, seq, prev, digest in session.execute(
        _held(session, PlaybackEvidence, device_ids, event_ids, seqs)
    ):
        known = devices[device_id]
        if seq > (known.chain.contiguous_seq if known.chain else 0):
            known.links[seq] = (prev or "", digest or "")
        known.evidence_ids.add(event_id)
        known.evidence_seqs[seq] = event_id
    for device_id, refused_id, seq, prev, digest in session.execute(
        _held(session, SecurityRecord, device_ids, event_ids, seqs)
    ):
        known = devices[device_id]
        if seq is not None and seq > (known.chain.contiguous_seq if known.chain else 0):
            known.links[seq] = (prev or "", digest or "")
        if refused_id is not None:
            known.refused_ids.add(refused_id)
            if seq is not None:
                known.refused_seqs[seq] = refused_id
    gaps = session.scalars(
        select(EvidenceGap)
        .where(among(session, EvidenceGap.device_id, device_ids), EvidenceGap.resolved_at.is_(None))
        .order_by(EvidenceGap.id)
    )
    for gap in gaps:
        devices[gap.device_id].gaps.append(gap)
    return devices


def _held(
    session: Session,
    model: type[PlaybackEvidence] | type[SecurityRecord],
    device_ids: Sequence[str],
    event_ids: set[str],
    seqs: set[int],
) -> Any:
    """Rows of ``model`` past the devices' prefixes or holding one of the ids or seqs."""
    after = func.coalesce(DeviceChain.contiguous_seq, 0)
    return (
        select(model.device_id, model.event_id, model.seq, model.prev_hash, model.digest)
        .outerjoin(DeviceChain, DeviceChain.device_id == model.device_id)
        .where(
            among(session, model.device_id, device_ids),
            or_(
                model.seq > after,
                among(session, model.event_id, event_ids),
                among(session, model.seq, seqs),
            ),
        )
    )


def _plans(session: Session, arrivals: Iterable[Arrival]) -> dict[tuple[str, str], _Plan]:
    """The planned play each event answers, by (device, item)."""
    pairs = {(device_id, v.body.item_id) for v, device_id in arrivals}
    p = PlannedPlay
    found = session.execute(
        select(p.device_id, p.item_id, p.broadcast_id, p.ward_code, p.planned_start).where(
            among(session, p.device_id, {d for d, _ in pairs}),
            among(session, p.item_id, {i for _, i in pairs}),
        )
    )
    return {
        (device_id, item_id): _Plan(broadcast_id, ward_code, planned_start)
        for device_id, item_id, broadcast_id, ward_code, planned_start in found
        if (device_id, item_id) in pairs
    }


def _insert_evidence(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the batch's evidence rows: on PostgreSQL by ``COPY``, else one executemany.

    psycopg sends an executemany as a pipeline, row by row in Python (about 10 ms of
    CPU for 500 rows); ``COPY`` streams them, each value through the column's own bind
    processing as an INSERT would (``UtcDateTime`` refuses a naive time). Constraints
    and the append-only triggers hold alike: a duplicate fails the batch either way.
    """
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        session.execute(insert(PlaybackEvidence), rows)
        return
    table = PlaybackEvidence.__table__
    columns = list(rows[0])
    processors = [table.c[name].type.bind_processor(dialect) for name in columns]
    names = ", ".join(f'"{name}"' for name in columns)
    driver = connection.connection.driver_connection  # psycopg's, in this transaction
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {PlaybackEvidence.__tablename__} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    row[name] if process is None else process(row[name])
                    for name, process in zip(columns, processors, strict=True)
                ]
            )


def _write_chains(session: Session, devices: Iterable[_Device]) -> None:
    """Store the chain rows the batch moved: new ones inserted, the others updated.

    A replica that created one of the new rows meanwhile makes the insert fail: the
    caller stores the batch again one by one.
    """
    chains = [d.chain for d in devices if d.chain is not None and d.chain.moved]
    new = [c.values() for c in chains if c.new]
    moved = [c.values() for c in chains if not c.new]
    if new:
        session.execute(insert(DeviceChain), new)
    if moved:
        session.execute(update(DeviceChain), moved)  # by primary key, one executemany


def _advance(
    session: Session,
    known: _Device,
    verified: Verified[PlaybackEvent],
    device_id: str,
    now: datetime,
) -> None:
    """``chain.advance`` in memory: the gap this link opens, the prefix walk, gaps filled."""
    seq = verified.body.seq
    if known.chain is None:
        # Inserted with the batch: a replica creating it too fails it (one by one then).
        known.chain = _Chain(device_id, 0, "", 0, now, new=True)
    chain = known.chain
    chain.moved = True
    known.links[seq] = (verified.body.prev_hash, verified.digest)
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
        "digest": verified.digest,
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
    verified: Verified[PlaybackEvent], device_id: str, why: tuple[str, str], now: datetime
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
        "digest": verified.digest,
        "signed": verified.signed,
        "sig": verified.sig,
    }
