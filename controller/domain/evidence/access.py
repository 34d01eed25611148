"""Evidence as a signed-in actor may read it: rows, gaps, bundles and archives of their wards.

Evidence rows carry the ward their device stood in when the play was reported, so a
device moved later does not carry its past into another ward's view. Refused messages
are a security matter for administrators only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from controller.db.models import EvidenceGap, PlaybackEvidence, RejectedMessageLog
from controller.db.models.archives import EvidenceArchive
from controller.domain.actors import Actor, Role
from controller.domain.devices.access import wards_of
from controller.domain.evidence import archives, chain
from controller.domain.evidence import service as evidence
from controller.domain.evidence.bundles.build import build_bundle
from wardcast_protocol.signing import SigningKey


def visible_evidence(
    session: Session,
    actor: Actor,
    device_id: str | None,
    start: datetime | None,
    end: datetime | None,
    broadcast_id: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> Sequence[PlaybackEvidence]:
    """Evidence rows of the actor's wards by device and planned-start period, oldest first."""
    return evidence.query_evidence(
        session, device_id, start, end, broadcast_id, limit, offset, wards=actor.wards
    )


def visible_gaps(session: Session, actor: Actor, device_id: str | None) -> list[EvidenceGap]:
    """Open gaps of the devices in the actor's wards, oldest first."""
    gaps = chain.open_gaps(session, device_id)
    if actor.wards is None:
        return gaps
    wards = wards_of(session, {g.device_id for g in gaps})
    return [g for g in gaps if actor.sees_ward(wards.get(g.device_id))]


def rejections_for(session: Session, actor: Actor, limit: int) -> Sequence[RejectedMessageLog]:
    """Refused messages, newest first (administrators: a security review)."""
    actor.require(Role.ADMIN, "reading refused messages")
    return evidence.list_rejections(session, limit)


def bundle_for(
    session: Session,
    actor: Actor,
    ward_code: str,
    start: datetime,
    end: datetime,
    key: SigningKey,
    now: datetime,
) -> dict[str, Any]:
    """A ward's signed bundle for [start, end), if the ward is in the actor's scope."""
    actor.require_ward(ward_code, "downloading an evidence bundle")
    return build_bundle(session, ward_code, start, end, key, now=now)


def archives_for(session: Session, actor: Actor, ward_code: str | None) -> list[EvidenceArchive]:
    """Archives of the actor's wards (one ward's when named), by ward and period."""
    if ward_code is not None:
        actor.require_ward(ward_code, "reading archives")
    return [a for a in archives.list_archives(session, ward_code) if actor.sees_ward(a.ward_code)]
