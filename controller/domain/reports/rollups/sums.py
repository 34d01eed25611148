"""The SQL that sums a day: facts into per-device rollups, those into per-ward ones.

Every statement is an ``INSERT … SELECT`` run by the database, for the days being
re-summed (their old rows are deleted first, by :mod:`.rebuild`). The per-device
tables answer reports on a group or a device; the per-ward tables, summed from them,
answer a district or a province: a province-month reads a few thousand ward-day rows
instead of a quarter of a million device rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    case,
    distinct,
    func,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from controller.db.models.rollups import (
    ReportBulletinsRollup,
    ReportDeviceDay,
    ReportPlaysRollup,
    ReportSessionsRollup,
    ReportWardBulletin,
    ReportWardCoverage,
    ReportWardDay,
    ReportWardSessions,
)
from controller.domain.reports.rollups.judging import OUTCOMES, flag

DEVICE_LEVEL = (ReportPlaysRollup, ReportSessionsRollup, ReportBulletinsRollup)
WARD_LEVEL = (
    ReportDeviceDay,
    ReportWardDay,
    ReportWardSessions,
    ReportWardBulletin,
    ReportWardCoverage,
)

_PLAY_SUMS = (
    "planned", "withdrawn", "confirmed", "played", "missed", "pending", "on_time", "timed",
    "planned_s", "played_s", "relayed_s", "completed", "partial", "preempted", "failed",
    "skipped", "unplanned", "unplanned_played",
)  # fmt: skip
_FACT_OF = {"planned": "owed", **{name: f"n_{name}" for name in OUTCOMES}}
_PLAYS_COLUMNS = [
    "ward_code", "local_date", "device_id", "group_code", "source_level", "kind",
    *_PLAY_SUMS, "last_start",
]  # fmt: skip
_SESSIONS_COLUMNS = [
    "ward_code", "local_date", "session_key", "device_id", "group_code",
    "items_planned", "items_played",
]  # fmt: skip
_BULLETINS_COLUMNS = [
    "ward_code", "local_date", "device_id", "group_code", "bulletin_id", "category",
    "planned", "confirmed", "played", "completed", "missed",
]  # fmt: skip
_GROUPS = ("targeted_groups", "covered_groups")
# A rollup table -> the conditions picking its rows of the wards and days being summed.
_Scope = Callable[[Any], list[ColumnElement[bool]]]


def sum_devices(session: Session, facts: Table) -> None:
    """Sum the ``facts`` table into the per-device plays, sessions and bulletins rollups."""
    targets: list[tuple[type[Any], list[str], Any]] = [
        (ReportPlaysRollup, _PLAYS_COLUMNS, _plays_select),
        (ReportSessionsRollup, _SESSIONS_COLUMNS, _sessions_select),
        (ReportBulletinsRollup, _BULLETINS_COLUMNS, _bulletins_select),
    ]
    for table, columns, build in targets:
        session.execute(insert(table).from_select(columns, build(facts)))


def _plays_select(facts: Table) -> Select[Any]:
    keys = [facts.c[k] for k in ("ward_code", "local_date", "device_id", "group_code")]
    keys += [facts.c.source_level, facts.c.kind]
    sums = [func.sum(facts.c[_FACT_OF.get(name, name)]) for name in _PLAY_SUMS]
    return select(*keys, *sums, func.max(facts.c.last_start)).group_by(*keys)


def _sessions_select(facts: Table) -> Select[Any]:
    keys = [facts.c[k] for k in ("ward_code", "local_date", "session_key", "device_id")]
    keys.append(facts.c.group_code)
    return (
        select(*keys, func.count(), func.sum(facts.c.played))
        .where(facts.c.session_key.is_not(None), facts.c.owed == 1)
        .group_by(*keys)
    )


def _bulletins_select(facts: Table) -> Select[Any]:
    keys = [facts.c[k] for k in ("ward_code", "local_date", "device_id", "group_code")]
    keys += [facts.c.bulletin_id, facts.c.category]
    sums = [
        func.count(),
        func.sum(facts.c.confirmed),
        func.sum(facts.c.played),
        func.sum(facts.c.completed_item),
        func.sum(facts.c.missed),
    ]
    return (
        select(*keys, *sums)
        .where(
            facts.c.bulletin_id.is_not(None),
            facts.c.kind == "media",
            facts.c.category != "chime",
            facts.c.owed == 1,
        )
        .group_by(*keys)
    )


def sum_wards(session: Session, wards: Sequence[str], first: date, last: date) -> None:
    """Fill the coarser tables from the per-device ones just written, for the same days.

    A province-month reads a few thousand ward-day rows instead of a quarter of a
    million device rows; groups and devices are still answered from the fine ones.
    """

    def scope(table: Any) -> list[ColumnElement[bool]]:
        return [table.ward_code.in_(wards), table.local_date >= first, table.local_date <= last]

    _device_days(session, scope)
    _ward_days(session, scope)
    _ward_sessions(session, scope)
    _ward_bulletins(session, scope)
    _ward_coverage(session, scope)


def _device_days(session: Session, scope: _Scope) -> None:
    """Per device and day: its plays summed over sources, and its sessions."""
    plays, sessions = ReportPlaysRollup, ReportSessionsRollup
    played_session = flag(sessions.items_played > 0)
    names = ("planned", "confirmed", "played", "missed", "pending", "on_time", "timed")
    # A union summed, not a join: PostgreSQL has no statistics on rows written a
    # moment ago and would plan a join of them as a nested loop over aggregates.
    zero = literal(0)
    both_parts = union_all(
        select(
            plays.ward_code, plays.local_date, plays.device_id, plays.group_code,
            *[getattr(plays, n) for n in names], zero.label("sp"), zero.label("spl"),
            plays.last_start,
        ).where(*scope(plays)),
        select(
            sessions.ward_code, sessions.local_date, sessions.device_id, sessions.group_code,
            *[zero for _ in names], literal(1), played_session, null(),
        ).where(*scope(sessions)),
    ).subquery("parts")  # fmt: skip
    c = both_parts.c
    keys = [c.ward_code, c.local_date, c.device_id, c.group_code]
    device_days = select(
        *keys,
        *[func.sum(c[n]) for n in names],
        func.sum(c.sp),
        func.sum(c.spl),
        func.max(c.last_start),
    ).group_by(*keys)
    session.execute(
        insert(ReportDeviceDay).from_select(
            [*(k.name for k in keys), *names, "sessions_planned", "sessions_played", "last_start"],
            device_days,
        )
    )


def _ward_days(session: Session, scope: _Scope) -> None:
    """Per ward, day, source level and kind: every play measure, and the longest relay."""
    plays = ReportPlaysRollup
    w_keys = [plays.ward_code, plays.local_date, plays.source_level, plays.kind]
    session.execute(
        insert(ReportWardDay).from_select(
            [*(k.key for k in w_keys), *_PLAY_SUMS, "max_relayed_s"],
            select(
                *w_keys,
                *[func.sum(getattr(plays, n)) for n in _PLAY_SUMS],
                func.max(plays.relayed_s),
            )
            .where(*scope(plays))
            .group_by(*w_keys),
        )
    )


def _ward_sessions(session: Session, scope: _Scope) -> None:
    """Per ward and day: sessions planned and played, and the same per device."""
    sessions = ReportSessionsRollup
    played_session = flag(sessions.items_played > 0)
    session.execute(
        insert(ReportWardSessions).from_select(
            ["ward_code", "local_date", "planned", "played", "device_planned", "device_played"],
            select(
                sessions.ward_code,
                sessions.local_date,
                func.count(distinct(sessions.session_key)),
                func.count(distinct(case((sessions.items_played > 0, sessions.session_key)))),
                func.count(),
                func.sum(played_session),
            )
            .where(*scope(sessions))
            .group_by(sessions.ward_code, sessions.local_date),
        )
    )


def _ward_bulletins(session: Session, scope: _Scope) -> None:
    """Per ward, day and bulletin: its plays, and the groups it targeted and covered."""
    bulletins = ReportBulletinsRollup
    b_keys = [bulletins.ward_code, bulletins.local_date, bulletins.bulletin_id, bulletins.category]
    session.execute(
        insert(ReportWardBulletin).from_select(
            [*(k.key for k in b_keys), *("planned", "played", "missed"), *_GROUPS],
            select(
                *b_keys,
                func.sum(bulletins.planned),
                func.sum(bulletins.played),
                func.sum(bulletins.missed),
                func.count(distinct(case((bulletins.planned > 0, bulletins.group_code)))),
                func.count(distinct(case((bulletins.completed > 0, bulletins.group_code)))),
            )
            .where(*scope(bulletins))
            .group_by(*b_keys),
        )
    )


def _ward_coverage(session: Session, scope: _Scope) -> None:
    """Per ward, day and bulletin: groups targeted, and groups that heard it.

    Heard is the report's one rule (``queries.heard``): a play there completed or partly
    played — not the completed-only count of ``report_ward_bulletins``.
    """
    bulletins = ReportBulletinsRollup
    keys = [bulletins.ward_code, bulletins.local_date, bulletins.bulletin_id]
    session.execute(
        insert(ReportWardCoverage).from_select(
            [*(k.key for k in keys), "targeted_groups", "covered_groups"],
            select(
                *keys,
                func.count(distinct(case((bulletins.planned > 0, bulletins.group_code)))),
                func.count(distinct(case((bulletins.played > 0, bulletins.group_code)))),
            )
            .where(*scope(bulletins))
            .group_by(*keys),
        )
    )
