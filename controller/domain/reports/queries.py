"""Reading a scope's figures out of the rollups: a handful of GROUP BY queries.

Each query sums per-device-day rows down to what the report shows (by ward and
day, by device, by bulletin) inside the database, so even a province-month returns
only thousands of rows to Python. Ward lists are chunked to stay far below driver
parameter limits; every result is keyed by ward, so chunks simply concatenate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, distinct, func, select, union_all
from sqlalchemy.orm import Session

from controller.db.models import Device, Ward
from controller.db.models.rollups import (
    ReportBulletinsRollup,
    ReportDeviceDay,
    ReportDeviceMonth,
    ReportPlaysRollup,
    ReportSessionsRollup,
    ReportWardBulletin,
    ReportWardCoverage,
    ReportWardDay,
    ReportWardSessions,
)
from controller.domain.reports.model import ScopeKind
from controller.domain.reports.rollups.months import DEVICE_SUMS, split_by_months

_CHUNK = 400

PLAY_MEASURES = (
    "planned", "withdrawn", "confirmed", "played", "missed", "pending", "on_time", "timed",
    "planned_s", "played_s", "relayed_s", "completed", "partial", "preempted", "failed",
    "skipped", "unplanned", "unplanned_played",
)  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """What a report covers: wards (one or many), and perhaps one group or one device."""

    kind: ScopeKind
    code: str
    name: str
    wards: tuple[Ward, ...]
    group_code: str | None = None
    device: Device | None = None

    @property
    def detailed(self) -> bool:
        """Whether only some of a ward's devices count (a group or a device scope)."""
        return self.group_code is not None or self.device is not None

    @property
    def single_ward(self) -> bool:
        """Whether the scope lies within one ward (ward, group or device)."""
        return self.kind in ("ward", "group", "device")


RollupTable = (
    type[ReportPlaysRollup]
    | type[ReportSessionsRollup]
    | type[ReportBulletinsRollup]
    | type[ReportDeviceDay]
)
WardTable = (
    type[ReportWardDay]
    | type[ReportWardSessions]
    | type[ReportWardBulletin]
    | type[ReportWardCoverage]
)


def where_scope(
    table: RollupTable, scope: Scope, codes: Sequence[str], first: date, last: date
) -> list[ColumnElement[bool]]:
    """Conditions on a rollup table: these wards, these local dates, the scope's group or device."""
    conditions = [
        table.ward_code.in_(codes),
        table.local_date >= first,
        table.local_date <= last,
    ]
    if scope.group_code is not None:
        conditions.append(table.group_code == scope.group_code)
    if scope.device is not None:
        conditions.append(table.device_id == scope.device.id)
    return conditions


def where_wards(
    table: WardTable, codes: Sequence[str], first: date, last: date
) -> list[ColumnElement[bool]]:
    """Conditions on a ward-level table: these wards, these local dates."""
    return [table.ward_code.in_(codes), table.local_date >= first, table.local_date <= last]


def _ward_chunks(scope: Scope) -> Iterator[list[str]]:
    codes = sorted(w.code for w in scope.wards)
    for i in range(0, len(codes), _CHUNK):
        yield codes[i : i + _CHUNK]


def plays_grouped(
    session: Session,
    scope: Scope,
    first: date,
    last: date,
    keys: Sequence[str],
    measures: Sequence[str] = PLAY_MEASURES,
    *,
    longest_relay: bool = False,
) -> list[tuple[Any, ...]]:
    """Play measures summed by ``keys`` (of ward_code, local_date, source_level, kind).

    With ``longest_relay``, only relays count and ``max_relayed_s`` is added: the relay
    seconds of the device that relayed longest (per key). Whole wards read the
    ward-day table; a group or a device reads the per-device one.
    """
    table: type[ReportWardDay] | type[ReportPlaysRollup]
    table = ReportPlaysRollup if scope.detailed else ReportWardDay
    key_columns = [getattr(table, k) for k in keys]
    columns: list[Any] = [func.sum(getattr(table, m)) for m in measures]
    if longest_relay:
        longest = table.relayed_s if scope.detailed else ReportWardDay.max_relayed_s
        columns.append(func.max(longest))
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for codes in _ward_chunks(scope):
        if scope.detailed:
            conditions = where_scope(ReportPlaysRollup, scope, codes, first, last)
        else:
            conditions = where_wards(ReportWardDay, codes, first, last)
        if longest_relay:
            conditions.append(table.kind == "relay")
        query = select(*key_columns, *columns).where(*conditions).group_by(*key_columns)
        for row in session.execute(query):
            key, values = tuple(row[: len(keys)]), list(row[len(keys) :])
            if key not in merged:
                merged[key] = values
                continue
            # Only when a scope spans more ward chunks than one: add sums, keep maxima.
            old = merged[key]
            for i, value in enumerate(values):
                last_is_max = longest_relay and i == len(values) - 1
                old[i] = (
                    max(old[i] or 0, value or 0) if last_is_max else (old[i] or 0) + (value or 0)
                )
    return [(*key, *values) for key, values in merged.items()]


def categories(session: Session, scope: Scope, first: date, last: date) -> list[Row[Any]]:
    """Per category, over many wards: distinct bulletins and their plays."""
    w = ReportWardBulletin
    rows: list[Row[Any]] = []
    for codes in _ward_chunks(scope):
        query = (
            select(
                w.category,
                func.count(distinct(w.bulletin_id)).label("bulletins"),
                func.sum(w.planned).label("planned"),
                func.sum(w.played).label("played"),
                func.sum(w.missed).label("missed"),
            )
            .where(*where_wards(w, codes, first, last))
            .group_by(w.category)
        )
        rows.extend(session.execute(query))
    return rows


def coverage_by_ward(
    session: Session, scope: Scope, first: date, last: date
) -> dict[str, tuple[int, int]]:
    """Ward -> (group-days that heard, group-days targeted) by its bulletins.

    "Heard" is the report's one rule (a play completed or partially played:
    :func:`heard`), the same as a ward's own coverage. Over whole wards it is read from
    the ward-level sums made under that rule (a row per ward, day and bulletin); a
    group's or a device's scope counts from the per-device rows.
    """
    found: dict[str, tuple[int, int]] = {}
    if scope.group_code is None and scope.device is None:
        c = ReportWardCoverage
        for codes in _ward_chunks(scope):
            query = (
                select(c.ward_code, func.sum(c.covered_groups), func.sum(c.targeted_groups))
                .where(*where_wards(c, codes, first, last))
                .group_by(c.ward_code)
            )
            found.update(
                {ward: (int(h or 0), int(n or 0)) for ward, h, n in session.execute(query)}
            )
        return found
    t = ReportBulletinsRollup
    for codes in _ward_chunks(scope):
        per_day = (
            select(
                t.ward_code,
                func.count(distinct(case((t.planned > 0, t.group_code)))).label("targeted"),
                func.count(distinct(case((heard(t), t.group_code)))).label("covered"),
            )
            .where(*where_scope(t, scope, codes, first, last))
            .group_by(t.ward_code, t.local_date, t.bulletin_id)
            .subquery()
        )
        query = select(
            per_day.c.ward_code, func.sum(per_day.c.covered), func.sum(per_day.c.targeted)
        ).group_by(per_day.c.ward_code)
        found.update({ward: (int(c or 0), int(n or 0)) for ward, c, n in session.execute(query)})
    return found


def heard(t: type[ReportBulletinsRollup]) -> ColumnElement[bool]:
    """A group heard a bulletin: at least one of its plays there completed or partly played.

    A cancelled emergency that had sounded is *partial*, so it counts; one cut by another
    emergency is *preempted*, its message cut, so it does not (see the method text).
    """
    return t.played > 0


def plays_by_device(session: Session, scope: Scope, first: date, last: date) -> list[Row[Any]]:
    """Per (ward, device): the measures availability is made of, sessions, and the last play.

    Whole months of the period are read from the device months (a row per device and
    month), the days at its edges from the device days: the same sums, a thirtieth of
    the rows.
    """
    t, m = ReportDeviceDay, ReportDeviceMonth
    whole, edges = split_by_months(first, last)
    rows: list[Row[Any]] = []
    for codes in _ward_chunks(scope):
        parts: list[Select[Any]] = [
            select(t.ward_code, t.device_id, t.group_code, *_device_sums(t), t.last_start).where(
                *where_scope(t, scope, codes, run_first, run_last)
            )
            for run_first, run_last in edges
        ]
        if whole:
            in_months = [m.ward_code.in_(codes), m.month >= whole[0], m.month <= whole[-1]]
            if scope.group_code is not None:
                in_months.append(m.group_code == scope.group_code)
            if scope.device is not None:
                in_months.append(m.device_id == scope.device.id)
            parts.append(
                select(m.ward_code, m.device_id, m.group_code, *_device_sums(m), m.last_start)
                .where(*in_months)
            )  # fmt: skip
        c = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("parts").c
        query = select(
            c.ward_code,
            c.device_id,
            func.max(c.group_code).label("group_code"),
            *[func.sum(c[name]).label(name) for name in DEVICE_SUMS],
            func.max(c.last_start).label("last_start"),
        ).group_by(c.ward_code, c.device_id)
        rows.extend(session.execute(query))
    return rows


def _device_sums(table: type[ReportDeviceDay] | type[ReportDeviceMonth]) -> list[Any]:
    return [getattr(table, name) for name in DEVICE_SUMS]


def sessions_by_day(session: Session, scope: Scope, first: date, last: date) -> list[Row[Any]]:
    """Per (ward, date): sessions planned and played (on at least one device), and per device."""
    rows: list[Row[Any]] = []
    if not scope.detailed:
        w = ReportWardSessions
        for codes in _ward_chunks(scope):
            query = select(
                w.ward_code, w.local_date, w.planned, w.played, w.device_planned, w.device_played
            ).where(*where_wards(w, codes, first, last))
            rows.extend(session.execute(query))
        return rows
    t = ReportSessionsRollup
    played_key = case((t.items_played > 0, t.session_key))
    for codes in _ward_chunks(scope):
        query = (
            select(
                t.ward_code,
                t.local_date,
                func.count(distinct(t.session_key)).label("planned"),
                func.count(distinct(played_key)).label("played"),
                func.count().label("device_planned"),
                func.sum(case((t.items_played > 0, 1), else_=0)).label("device_played"),
            )
            .where(*where_scope(t, scope, codes, first, last))
            .group_by(t.ward_code, t.local_date)
        )
        rows.extend(session.execute(query))
    return rows


def bulletins(session: Session, scope: Scope, first: date, last: date) -> list[Row[Any]]:
    """Per (ward, bulletin, category) in one ward: plays, groups targeted and covered.

    Groups are counted exactly (distinct over the period). Over many wards see
    :func:`categories` and :func:`coverage_by_ward` instead.
    """
    rows: list[Row[Any]] = []
    t = ReportBulletinsRollup
    targeted = case((t.planned > 0, t.group_code))
    covered = case((heard(t), t.group_code))
    for codes in _ward_chunks(scope):
        query = (
            select(
                t.ward_code,
                t.bulletin_id,
                t.category,
                func.sum(t.planned).label("planned"),
                func.sum(t.played).label("played"),
                func.sum(t.missed).label("missed"),
                func.count(distinct(targeted)).label("targeted"),
                func.count(distinct(covered)).label("covered"),
            )
            .where(*where_scope(t, scope, codes, first, last))
            .group_by(t.ward_code, t.bulletin_id, t.category)
        )
        rows.extend(session.execute(query))
    return rows


def uncovered_groups(
    session: Session, scope: Scope, first: date, last: date
) -> dict[tuple[str, str], list[str]]:
    """(ward, bulletin) -> groups it targeted that did not hear it (one-ward scopes)."""
    t = ReportBulletinsRollup
    found: dict[tuple[str, str], list[str]] = {}
    for codes in _ward_chunks(scope):
        query = (
            select(t.ward_code, t.bulletin_id, t.group_code)
            .where(*where_scope(t, scope, codes, first, last))
            .group_by(t.ward_code, t.bulletin_id, t.group_code)
            .having(func.sum(t.planned) > 0, func.sum(t.played) == 0)
            .order_by(t.ward_code, t.bulletin_id, t.group_code)
        )
        for ward, bulletin, group in session.execute(query):
            found.setdefault((ward, bulletin), []).append(group)
    return found
