"""The facts a day's sums are made of: one row per planned play and per unplanned evidence.

Joining plans to their evidence is the costly part of summing, so it is done once per
run of days into the temporary table :data:`FACTS`, which the sums in :mod:`.sums`
then read three times. A planned play carries the flags of its judgement (see
:mod:`.judging`); evidence nobody planned carries only its outcome, as *unplanned*.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    CompoundSelect,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    literal,
    null,
    select,
    union_all,
)

from controller.db.models import PlannedPlay, PlaybackEvidence
from controller.domain.reports.rollups.judging import (
    OUTCOMES,
    PLAYED_OUTCOMES,
    RollupRules,
    evidence_by_item,
    flag,
    judgement,
)
from controller.domain.reports.sqlfn import local_date_at

_FLAGS = (
    "owed", "withdrawn", "confirmed", "played", "completed_item", "missed", "pending",
    "on_time", "timed",
)  # fmt: skip
FACTS = Table(
    "report_facts",
    MetaData(),
    Column("ward_code", String(16)),
    Column("local_date", Date),
    Column("device_id", String(64)),
    Column("group_code", String(64)),
    Column("source_level", String(16)),
    Column("kind", String(8)),
    Column("session_key", String(120)),
    Column("bulletin_id", String(64)),
    Column("category", String(64)),
    *[Column(name, Integer) for name in _FLAGS],
    Column("planned_s", Float),
    Column("played_s", Float),
    Column("relayed_s", Float),
    *[Column(f"n_{name}", Integer) for name in OUTCOMES],
    Column("unplanned", Integer),
    Column("unplanned_played", Integer),
    Column("last_start", DateTime(timezone=True)),
    prefixes=["TEMPORARY"],
)


def facts_select(
    sqlite: bool,
    wards: Sequence[str],
    devices: Sequence[str],
    start: datetime,
    end: datetime,
    offset_s: int,
    now: datetime,
    rules: RollupRules,
) -> CompoundSelect[Any]:
    """One row per planned play (with its evidence) and per unplanned evidence row."""
    return union_all(
        _planned_rows(sqlite, wards, devices, start, end, offset_s, now, rules),
        _unplanned_rows(sqlite, wards, devices, start, end, offset_s),
    )


def _planned_rows(
    sqlite: bool,
    wards: Sequence[str],
    devices: Sequence[str],
    start: datetime,
    end: datetime,
    offset_s: int,
    now: datetime,
    rules: RollupRules,
) -> Select[Any]:
    """The wards' planned plays in [start, end), each with its evidence and judgement."""
    p = PlannedPlay
    ev = evidence_by_item(sqlite, devices, start, end, rules)
    confirmed, owed, overdue = judgement(sqlite, ev, now, rules)
    columns: list[Any] = [
        p.ward_code.label("ward_code"),
        local_date_at(sqlite, p.planned_start, offset_s).label("local_date"),
        p.device_id.label("device_id"),
        func.coalesce(p.group_code, "").label("group_code"),
        p.source_level.label("source_level"),
        p.kind.label("kind"),
        p.session_key.label("session_key"),
        p.bulletin_id.label("bulletin_id"),
        func.coalesce(p.category, "").label("category"),
        flag(owed).label("owed"),
        flag(~owed).label("withdrawn"),
        flag(confirmed).label("confirmed"),
        func.coalesce(ev.c.played, 0).label("played"),
        func.coalesce(ev.c.completed_item, 0).label("completed_item"),
        flag(and_(owed, ~confirmed, overdue)).label("missed"),
        flag(and_(owed, ~confirmed, ~overdue)).label("pending"),
        func.coalesce(ev.c.on_time, 0).label("on_time"),
        func.coalesce(ev.c.timed, 0).label("timed"),
        case((owed, p.planned_duration_s), else_=0.0).label("planned_s"),
        func.coalesce(ev.c.played_s, 0.0).label("played_s"),
        func.coalesce(ev.c.relayed_s, 0.0).label("relayed_s"),
        *[func.coalesce(ev.c[f"n_{name}"], 0).label(f"n_{name}") for name in OUTCOMES],
        literal(0).label("unplanned"),
        literal(0).label("unplanned_played"),
        ev.c.last_start.label("last_start"),
    ]
    return (
        select(*columns)
        .select_from(
            p.__table__.outerjoin(
                ev, and_(ev.c.device_id == p.device_id, ev.c.item_id == p.item_id)
            )
        )
        .where(p.ward_code.in_(wards), p.planned_start >= start, p.planned_start < end)
    )


def _unplanned_rows(
    sqlite: bool,
    wards: Sequence[str],
    devices: Sequence[str],
    start: datetime,
    end: datetime,
    offset_s: int,
) -> Select[Any]:
    """Evidence in the wards in [start, end) that matches no plan, in the planned rows' shape."""
    e = PlaybackEvidence
    has_plan = exists().where(
        PlannedPlay.device_id == e.device_id, PlannedPlay.item_id == e.item_id
    )
    played_flag = flag(e.outcome.in_(PLAYED_OUTCOMES))
    return select(
        e.ward_code,
        local_date_at(sqlite, e.planned_start, offset_s),
        e.device_id,
        func.coalesce(e.group_code, ""),
        e.source_level,
        case((e.relayed_s.is_not(None), "relay"), else_="media"),
        null(),
        null(),
        literal(""),
        *[literal(0)] * 9,  # owed … timed: evidence nobody planned is not a planned play
        literal(0.0),
        e.played_duration_s,
        func.coalesce(e.relayed_s, 0.0),
        *[literal(0)] * len(OUTCOMES),
        literal(1),
        played_flag,
        e.actual_start,
    ).where(
        e.device_id.in_(devices),
        e.ward_code.in_(wards),
        e.planned_start >= start,
        e.planned_start < end,
        ~has_plan,
    )
