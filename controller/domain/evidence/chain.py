"""Each device's chain of events: numbered from 1, each naming the hash of the one before.

Evidence rows never change; what changes as events arrive is the knowledge of how
far a device's chain is whole (``DeviceChain``) and which numbers are still missing
(``EvidenceGap``). A link that does not match — an event whose ``prev_hash`` is not
the digest of the stored event before it — means the chain was altered or forked:
it is reported as a security problem, never smoothed over.

A link is an event the controller holds with its signed bytes: stored as evidence,
or refused as evidence and kept as a security record (an event for an item never
planned for the device). Both count for the chain's wholeness, so a refused event
is neither a gap nor asked for again; only evidence rows count as plays.

Replicas of the controller (docs/scale.md) may store two events of one device at
once: the chain row is read ``FOR UPDATE`` (PostgreSQL; SQLite has one writer), so
the second waits for the first's commit and walks the chain from where it left it,
instead of both reading the same head and one undoing the other's progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller.db.models import DeviceChain, EvidenceGap, PlaybackEvidence, SecurityRecord


@dataclass
class ChainReport:
    """What one arrival changed."""

    new_gaps: list[tuple[int, int]] = field(default_factory=list)
    broken_links: list[int] = field(default_factory=list)  # seqs whose prev_hash mismatched
    contiguous_seq: int = 0


def _chain(session: Session, device_id: str, now: datetime) -> DeviceChain:
    """The device's chain row, locked until the commit (created on its first event)."""
    chain = session.get(DeviceChain, device_id, with_for_update=True)
    if chain is not None:
        return chain
    try:
        with session.begin_nested():
            session.add(
                DeviceChain(
                    device_id=device_id, contiguous_seq=0, contiguous_digest="", highest_seq=0,
                    updated_at=now,
                )
            )  # fmt: skip
    except IntegrityError:
        pass  # another replica created it first: lock theirs
    chain = session.get(DeviceChain, device_id, with_for_update=True, populate_existing=True)
    assert chain is not None
    return chain


def advance(session: Session, device_id: str, seq: int, now: datetime) -> ChainReport:
    """Account for a newly stored event ``seq`` of ``device_id``."""
    chain = _chain(session, device_id, now)
    report = ChainReport()
    if seq > chain.highest_seq + 1:
        report.new_gaps.append((chain.highest_seq + 1, seq - 1))
        session.add(
            EvidenceGap(
                device_id=device_id, from_seq=chain.highest_seq + 1, to_seq=seq - 1,
                detected_at=now,
            )
        )  # fmt: skip
    chain.highest_seq = max(chain.highest_seq, seq)
    # Walk forward from the whole prefix over every stored successor, checking links.
    rows = _links(session, device_id, chain.contiguous_seq)
    for row_seq, prev_hash, digest in rows:
        if row_seq != chain.contiguous_seq + 1:
            break
        if prev_hash != chain.contiguous_digest:
            report.broken_links.append(row_seq)
        chain.contiguous_seq, chain.contiguous_digest = row_seq, digest
    chain.updated_at = now
    report.contiguous_seq = chain.contiguous_seq
    _resolve_gaps(session, device_id, now)
    return report


def _links(session: Session, device_id: str, after_seq: int) -> list[tuple[int, str, str]]:
    """(seq, prev_hash, digest) of every link held after ``after_seq``, evidence or refused."""
    evidence = session.execute(
        select(PlaybackEvidence.seq, PlaybackEvidence.prev_hash, PlaybackEvidence.digest).where(
            PlaybackEvidence.device_id == device_id, PlaybackEvidence.seq > after_seq
        )
    )
    refused = session.execute(
        select(SecurityRecord.seq, SecurityRecord.prev_hash, SecurityRecord.digest).where(
            SecurityRecord.device_id == device_id, SecurityRecord.seq > after_seq
        )
    )
    links = [(seq, prev, digest) for seq, prev, digest in evidence]
    links += [(seq, prev or "", digest or "") for seq, prev, digest in refused if seq is not None]
    return sorted(links)


def _held_seqs(session: Session, device_id: str, low: int, high: int) -> set[int]:
    """The sequence numbers in [low, high] the controller holds (evidence or refused)."""
    evidence = select(PlaybackEvidence.seq).where(
        PlaybackEvidence.device_id == device_id,
        PlaybackEvidence.seq >= low,
        PlaybackEvidence.seq <= high,
    )
    refused = select(SecurityRecord.seq).where(
        SecurityRecord.device_id == device_id,
        SecurityRecord.seq >= low,
        SecurityRecord.seq <= high,
    )
    return set(session.scalars(evidence)) | {s for s in session.scalars(refused) if s is not None}


def _resolve_gaps(session: Session, device_id: str, now: datetime) -> None:
    open_gaps = session.scalars(
        select(EvidenceGap).where(
            EvidenceGap.device_id == device_id, EvidenceGap.resolved_at.is_(None)
        )
    )
    for gap in open_gaps:
        present = _held_seqs(session, device_id, gap.from_seq, gap.to_seq)
        if len(present) == gap.to_seq - gap.from_seq + 1:
            gap.resolved_at = now


def open_gaps(session: Session, device_id: str | None = None) -> list[EvidenceGap]:
    """Gaps not yet filled, oldest first."""
    query = select(EvidenceGap).where(EvidenceGap.resolved_at.is_(None))
    if device_id is not None:
        query = query.where(EvidenceGap.device_id == device_id)
    return list(session.scalars(query.order_by(EvidenceGap.detected_at)))


def missing_seqs(session: Session, gap: EvidenceGap) -> list[int]:
    """The numbers in ``gap`` still not received."""
    present = _held_seqs(session, gap.device_id, gap.from_seq, gap.to_seq)
    return [s for s in range(gap.from_seq, gap.to_seq + 1) if s not in present]
