"""How a planned play is judged (the same for every report), written as SQL.

* *owed*: planned and not withdrawn — or withdrawn but played anyway;
* *confirmed*: the device sent evidence for that item (any outcome);
* *played*: confirmed as completed or partial;
* *missed*: owed, not confirmed, and its planned end plus the deadline has passed;
* *pending*: owed, not confirmed, still within the deadline;
* *on time*: the device's actual start within the tolerance of its planned start.

Evidence is matched to its plan by device and item id, searched within a day either
side of the planned start (an item's id belongs to one local day's session).
Evidence with no plan is counted as *unplanned*, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.sql.selectable import Subquery

from controller.db.models import PlannedPlay, PlaybackEvidence
from controller.db.types import UtcDateTime
from controller.domain.reports.sqlfn import seconds_between

PLAYED_OUTCOMES = ("completed", "partial")
OUTCOMES = ("completed", "partial", "preempted", "failed", "skipped")
EVIDENCE_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class RollupRules:
    """How plays are judged, and how long a summed day may be trusted."""

    tolerance_s: float = 5.0  # on time: |actual - planned start| at most this
    deadline_s: float = 600.0  # missed: no evidence this long after the planned end
    freshness_s: float = 60.0  # a day that can still change is re-summed after this
    seal_after_s: float = 86_400.0  # a day summed this long after it ended is final
    commit_grace_s: float = 60.0  # rows younger than this may still be committing


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where ``condition`` holds, else 0: a flag that sums into a count."""
    return case((condition, 1), else_=0)


def evidence_by_item(
    sqlite: bool, devices: Sequence[str], start: datetime, end: datetime, rules: RollupRules
) -> Subquery:
    """Evidence of ``devices`` near [start, end), one row per (device, item)."""
    e = PlaybackEvidence
    offset = seconds_between(sqlite, e.planned_start, e.actual_start)
    on_time = and_(e.actual_start.is_not(None), func.abs(offset) <= rules.tolerance_s)
    columns: list[Any] = [
        e.device_id,
        e.item_id,
        func.count().label("n"),
        func.max(flag(e.outcome.in_(PLAYED_OUTCOMES))).label("played"),
        func.max(flag(e.outcome == "completed")).label("completed_item"),
        func.max(flag(on_time)).label("on_time"),
        func.max(flag(e.actual_start.is_not(None))).label("timed"),
        func.sum(e.played_duration_s).label("played_s"),
        func.sum(func.coalesce(e.relayed_s, 0.0)).label("relayed_s"),
        func.max(e.actual_start).label("last_start"),
    ]
    columns += [func.sum(flag(e.outcome == name)).label(f"n_{name}") for name in OUTCOMES]
    return (
        select(*columns)
        .where(
            e.device_id.in_(devices),
            e.planned_start >= start - EVIDENCE_WINDOW,
            e.planned_start < end + EVIDENCE_WINDOW,
        )
        .group_by(e.device_id, e.item_id)
        .subquery("ev")
    )


def judgement(
    sqlite: bool, ev: Subquery, now: datetime, rules: RollupRules
) -> tuple[ColumnElement[bool], ColumnElement[bool], ColumnElement[bool]]:
    """(confirmed, owed, overdue) of a planned play joined to its evidence ``ev``."""
    p = PlannedPlay
    confirmed = ev.c.n.is_not(None)
    owed = or_(p.withdrawn_at.is_(None), confirmed)
    overdue = seconds_between(sqlite, p.planned_start, literal(now, UtcDateTime())) > (
        p.planned_duration_s + rules.deadline_s
    )
    return confirmed, owed, overdue


def missed_select(
    sqlite: bool,
    ward_code: str,
    devices: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    rules: RollupRules,
) -> Select[PlannedPlay]:
    """Planned plays of ``devices`` in the ward in [start, end) that are missed, oldest first."""
    p = PlannedPlay
    ev = evidence_by_item(sqlite, devices, start, end, rules)
    confirmed, owed, overdue = judgement(sqlite, ev, now, rules)
    return (
        select(p)
        .outerjoin(ev, and_(ev.c.device_id == p.device_id, ev.c.item_id == p.item_id))
        .where(
            p.ward_code == ward_code,
            p.device_id.in_(devices),
            p.planned_start >= start,
            p.planned_start < end,
            owed,
            ~confirmed,
            overdue,
        )
        .order_by(p.planned_start, p.device_id, p.item_id)
    )
