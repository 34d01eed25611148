"""Searching evidence as an inspector does: by ward, group, device, period, outcome, source.

The console's evidence viewer reads through here (the API's ``GET /api/v1/evidence``
keeps its own narrower query, :func:`.service.query_evidence`). Rows carry the ward and
group their device stood in when the play was reported, so the filters use those, and
only the actor's wards are ever searched: a named ward outside them is refused (403)
before anything is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from controller.db.models import PlaybackEvidence
from controller.domain.actors import Actor
from controller.domain.errors import InvalidInput

MAX_PAGE = 500


@dataclass(frozen=True)
class EvidenceFilter:
    """What to look for; None: any. ``start``/``end`` bound the planned start, [start, end)."""

    ward_code: str | None = None
    group_code: str | None = None
    device_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    outcome: str | None = None
    source_level: str | None = None


@dataclass(frozen=True)
class EvidencePage:
    """One page of rows (newest planned start first) and how many match in all."""

    rows: Sequence[PlaybackEvidence]
    total: int


def _where(query: Select[Any], actor: Actor, f: EvidenceFilter) -> Select[Any]:
    if f.ward_code is not None:
        actor.require_ward(f.ward_code, "reading evidence")
        query = query.where(PlaybackEvidence.ward_code == f.ward_code)
    elif actor.wards is not None:
        query = query.where(PlaybackEvidence.ward_code.in_(actor.wards))
    if f.group_code is not None:
        query = query.where(PlaybackEvidence.group_code == f.group_code)
    if f.device_id is not None:
        query = query.where(PlaybackEvidence.device_id == f.device_id)
    if f.start is not None:
        query = query.where(PlaybackEvidence.planned_start >= f.start)
    if f.end is not None:
        query = query.where(PlaybackEvidence.planned_start < f.end)
    if f.outcome is not None:
        query = query.where(PlaybackEvidence.outcome == f.outcome)
    if f.source_level is not None:
        query = query.where(PlaybackEvidence.source_level == f.source_level)
    return query


def search_evidence(
    session: Session, actor: Actor, f: EvidenceFilter, limit: int = 50, offset: int = 0
) -> EvidencePage:
    """The matching rows of the actor's wards, newest first, and their total count."""
    if f.start is not None and f.end is not None and f.end <= f.start:
        raise InvalidInput("the period ends before it starts")
    limit = max(1, min(limit, MAX_PAGE))
    rows: Sequence[PlaybackEvidence] = session.scalars(
        _where(select(PlaybackEvidence), actor, f)
        .order_by(PlaybackEvidence.planned_start.desc(), PlaybackEvidence.id.desc())
        .limit(limit)
        .offset(max(0, offset))
    ).all()
    counted = _where(select(PlaybackEvidence), actor, f).with_only_columns(func.count())
    return EvidencePage(rows, int(session.scalar(counted) or 0))
