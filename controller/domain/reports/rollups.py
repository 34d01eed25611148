"""Per-day rollups of planned plays against evidence: built on demand, rebuilt when stale.

A report over a year reads a few thousand summed rows instead of a hundred thousand
plays. The sums are derived data: each (ward, local date) is rebuilt from
``planned_plays`` and ``playback_evidence`` whenever

* it was never built, or under other rules (tolerance, deadline, time zone);
* evidence or planned plays for it were stored after it was built — found by
  watermarks on the two tables' ids, which only grow because evidence is append-only;
* it was built while the day could still change (before its end plus ``seal_after_s``)
  and is older than ``freshness_s``: "pending" turns into "missed" as time passes, and
  the planner still edits today's and tomorrow's plays.

:func:`ensure_rollups` is what the reports call; :func:`refresh_recent` is for a
periodic job, so that the first report of the morning finds yesterday already summed.

How a planned play is judged (the same for every report):

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

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    ColumnElement,
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
    delete,
    distinct,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from controller.db.models import Device, PlannedPlay, PlaybackEvidence, Ward
from controller.db.models.rollups import (
    ReportBulletinsRollup,
    ReportDeviceDay,
    ReportPlaysRollup,
    ReportRollupDay,
    ReportRollupState,
    ReportSessionsRollup,
    ReportWardBulletin,
    ReportWardDay,
    ReportWardSessions,
)
from controller.db.types import UtcDateTime
from controller.domain.reports.periods import day_start_utc
from controller.domain.reports.sqlfn import is_sqlite, local_date_at, seconds_between, utc_date

PLAYED_OUTCOMES = ("completed", "partial")
OUTCOMES = ("completed", "partial", "preempted", "failed", "skipped")
EVIDENCE_WINDOW = timedelta(days=1)
PG_WORK_MEM = "128MB"
_IN_CHUNK = 400  # ward codes per IN list: far below every driver's parameter limit


@dataclass(frozen=True)
class RollupRules:
    """How plays are judged, and how long a summed day may be trusted."""

    tolerance_s: float = 5.0  # on time: |actual - planned start| at most this
    deadline_s: float = 600.0  # missed: no evidence this long after the planned end
    freshness_s: float = 60.0  # a day that can still change is re-summed after this
    seal_after_s: float = 86_400.0  # a day summed this long after it ended is final
    commit_grace_s: float = 60.0  # rows younger than this may still be committing


def offset_segments(
    zone: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where ``zone``'s UTC offset changes: (from, to, offset seconds).

    Within a segment the local date is the UTC instant plus a fixed offset, which
    both databases can compute; most zones (Asia/Ho_Chi_Minh) give one segment.
    """
    tz = ZoneInfo(zone)

    def offset(at: int) -> int:
        delta = datetime.fromtimestamp(at, UTC).astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    # Whole seconds: zone transitions happen on them, and so does local midnight.
    first, last = int(start.timestamp()), int(end.timestamp())
    segments: list[tuple[datetime, datetime, int]] = []
    seg_start, current, probe = first, offset(first), first
    while probe < last:
        step = min(probe + 12 * 3600, last)
        if offset(step) != current:
            low, high = probe, step  # offset(low) is current, offset(high) is not
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if offset(mid) == current else (low, mid)
            if high < last:
                segments.append((_utc(seg_start), _utc(high), current))
                seg_start = high
            current = offset(high)
        probe = step
    segments.append((_utc(seg_start), end, current))
    return segments


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _evidence_by_item(
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
        func.max(_flag(e.outcome.in_(PLAYED_OUTCOMES))).label("played"),
        func.max(_flag(e.outcome == "completed")).label("completed_item"),
        func.max(_flag(on_time)).label("on_time"),
        func.max(_flag(e.actual_start.is_not(None))).label("timed"),
        func.sum(e.played_duration_s).label("played_s"),
        func.sum(func.coalesce(e.relayed_s, 0.0)).label("relayed_s"),
        func.max(e.actual_start).label("last_start"),
    ]
    columns += [func.sum(_flag(e.outcome == name)).label(f"n_{name}") for name in OUTCOMES]
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


def _judgement(
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
    ev = _evidence_by_item(sqlite, devices, start, end, rules)
    confirmed, owed, overdue = _judgement(sqlite, ev, now, rules)
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


def _facts(
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
    p, e = PlannedPlay, PlaybackEvidence
    ev = _evidence_by_item(sqlite, devices, start, end, rules)
    confirmed, owed, overdue = _judgement(sqlite, ev, now, rules)
    planned_columns: list[Any] = [
        p.ward_code.label("ward_code"),
        local_date_at(sqlite, p.planned_start, offset_s).label("local_date"),
        p.device_id.label("device_id"),
        func.coalesce(p.group_code, "").label("group_code"),
        p.source_level.label("source_level"),
        p.kind.label("kind"),
        p.session_key.label("session_key"),
        p.bulletin_id.label("bulletin_id"),
        func.coalesce(p.category, "").label("category"),
        _flag(owed).label("owed"),
        _flag(~owed).label("withdrawn"),
        _flag(confirmed).label("confirmed"),
        func.coalesce(ev.c.played, 0).label("played"),
        func.coalesce(ev.c.completed_item, 0).label("completed_item"),
        _flag(and_(owed, ~confirmed, overdue)).label("missed"),
        _flag(and_(owed, ~confirmed, ~overdue)).label("pending"),
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
    planned_rows = (
        select(*planned_columns)
        .select_from(
            p.__table__.outerjoin(
                ev, and_(ev.c.device_id == p.device_id, ev.c.item_id == p.item_id)
            )
        )
        .where(p.ward_code.in_(wards), p.planned_start >= start, p.planned_start < end)
    )
    has_plan = exists().where(
        PlannedPlay.device_id == e.device_id, PlannedPlay.item_id == e.item_id
    )
    played_flag = _flag(e.outcome.in_(PLAYED_OUTCOMES))
    unplanned_rows = select(
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
    return union_all(planned_rows, unplanned_rows)


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

_PLAY_SUMS = (
    "planned", "withdrawn", "confirmed", "played", "missed", "pending", "on_time", "timed",
    "planned_s", "played_s", "relayed_s", "completed", "partial", "preempted", "failed",
    "skipped", "unplanned", "unplanned_played",
)  # fmt: skip
_FACT_OF = {"planned": "owed", **{name: f"n_{name}" for name in OUTCOMES}}


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
DEVICE_LEVEL = (ReportPlaysRollup, ReportSessionsRollup, ReportBulletinsRollup)
WARD_LEVEL = (ReportDeviceDay, ReportWardDay, ReportWardSessions, ReportWardBulletin)


def _sum_up(session: Session, wards: Sequence[str], first: date, last: date) -> None:
    """Fill the coarser tables from the per-device ones just written, for the same days.

    A province-month reads a few thousand ward-day rows instead of a quarter of a
    million device rows; groups and devices are still answered from the fine ones.
    """

    def scope(table: Any) -> list[ColumnElement[bool]]:
        return [table.ward_code.in_(wards), table.local_date >= first, table.local_date <= last]

    plays, sessions, bulletins = ReportPlaysRollup, ReportSessionsRollup, ReportBulletinsRollup
    played_session = _flag(sessions.items_played > 0)
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


def _devices_of(
    session: Session, wards: Sequence[str], start: datetime, end: datetime
) -> list[str]:
    """Devices whose evidence can belong to these wards in [start, end): planned or placed."""
    planned = select(PlannedPlay.device_id).where(
        PlannedPlay.ward_code.in_(wards),
        PlannedPlay.planned_start >= start - EVIDENCE_WINDOW,
        PlannedPlay.planned_start < end + EVIDENCE_WINDOW,
    )
    placed = select(Device.id).where(Device.ward_code.in_(wards))
    return sorted(session.scalars(union(planned, placed)))


def rebuild(
    session: Session,
    wards: Sequence[str],
    zone: str,
    first: date,
    last: date,
    now: datetime,
    rules: RollupRules,
) -> None:
    """Re-sum local dates ``first``..``last`` of ``wards`` (all in ``zone``) from the raw tables."""
    sqlite = is_sqlite(session)
    if not sqlite:
        # PostgreSQL's default 4 MB per hash spills a province-month's joins to disk:
        # 105 s instead of 16 s at 10M rows. LOCAL: for this transaction only.
        session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
    start = day_start_utc(first, zone)
    end = day_start_utc(last + timedelta(days=1), zone)
    for table in (*DEVICE_LEVEL, *WARD_LEVEL, ReportRollupDay):
        session.execute(
            delete(table).where(
                table.ward_code.in_(wards), table.local_date >= first, table.local_date <= last
            )
        )
    devices = _devices_of(session, wards, start, end)
    for seg_start, seg_end, offset_s in offset_segments(zone, start, end):
        facts = _facts(sqlite, wards, devices, seg_start, seg_end, offset_s, now, rules)
        # The join of plans and evidence is the costly part: done once, into a
        # temporary table that the three sums read.
        connection = session.connection()
        FACTS.drop(connection, checkfirst=True)
        FACTS.create(connection)
        session.execute(insert(FACTS).from_select([c.name for c in FACTS.columns], facts))
        targets: list[tuple[type[Any], list[str], Any]] = [
            (ReportPlaysRollup, _PLAYS_COLUMNS, _plays_select),
            (ReportSessionsRollup, _SESSIONS_COLUMNS, _sessions_select),
            (ReportBulletinsRollup, _BULLETINS_COLUMNS, _bulletins_select),
        ]
        for table, columns, build in targets:
            session.execute(insert(table).from_select(columns, build(FACTS)))
        FACTS.drop(connection)
    _sum_up(session, wards, first, last)
    markers = [
        {
            "ward_code": ward,
            "local_date": first + timedelta(days=i),
            "computed_at": now,
            "timezone": zone,
            "tolerance_s": rules.tolerance_s,
            "deadline_s": rules.deadline_s,
        }
        for ward in wards
        for i in range((last - first).days + 1)
    ]
    if markers:
        session.execute(insert(ReportRollupDay), markers)


def _is_stale(
    marker: Row[Any] | None, zone: str, day: date, now: datetime, rules: RollupRules
) -> bool:
    if marker is None:
        return True
    if (
        marker.timezone != zone
        or marker.tolerance_s != rules.tolerance_s
        or marker.deadline_s != rules.deadline_s
    ):
        return True
    computed: datetime = marker.computed_at
    day_end = day_start_utc(day + timedelta(days=1), zone)
    if computed >= day_end + timedelta(seconds=rules.seal_after_s):
        return False  # summed after the day could change: final
    return computed < now - timedelta(seconds=rules.freshness_s)


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive dates grouped into (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def ensure_rollups(
    session: Session,
    wards: Sequence[Ward],
    first: date,
    last: date,
    now: datetime,
    rules: RollupRules,
) -> int:
    """Make the rollups of ``wards`` for local dates ``first``..``last`` current; days re-summed."""
    invalidate_changed(session, now, rules)
    by_code = {w.code: w for w in wards}
    markers: dict[tuple[str, date], Row[Any]] = {}
    m = ReportRollupDay
    for codes in _chunks(sorted(by_code)):
        # Plain rows, not ORM objects: a province-year has tens of thousands.
        query = select(
            m.ward_code, m.local_date, m.computed_at, m.timezone, m.tolerance_s, m.deadline_s
        ).where(m.ward_code.in_(codes), m.local_date >= first, m.local_date <= last)
        markers.update({(row.ward_code, row.local_date): row for row in session.execute(query)})
    batches: dict[tuple[str, date, date], list[str]] = defaultdict(list)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    for code, ward in by_code.items():
        stale = [d for d in days if _is_stale(markers.get((code, d)), ward.timezone, d, now, rules)]
        for run in _runs(stale):
            batches[(ward.timezone, *run)].append(code)
    rebuilt = 0
    for (zone, run_first, run_last), codes in sorted(batches.items()):
        for chunk in _chunks(sorted(codes)):
            rebuild(session, chunk, zone, run_first, run_last, now, rules)
            rebuilt += len(chunk) * ((run_last - run_first).days + 1)
    session.flush()
    return rebuilt


def refresh_recent(session: Session, now: datetime, rules: RollupRules, days: int = 2) -> int:
    """Bring every ward's last ``days`` local days up to date (for a periodic job)."""
    wards = list(session.scalars(select(Ward)))
    rebuilt = 0
    for zone in sorted({w.timezone for w in wards}):
        today = now.astimezone(ZoneInfo(zone)).date()
        in_zone = [w for w in wards if w.timezone == zone]
        rebuilt += ensure_rollups(session, in_zone, today - timedelta(days=days), today, now, rules)
    return rebuilt


def backfill(
    session: Session, now: datetime, rules: RollupRules, chunk_days: int = 31
) -> Iterable[int]:
    """Sum every day that has planned plays, a month at a time; yields ward-days re-summed.

    For a controller that already holds history (an upgrade, an import): run it once
    from a job, committing between yields, so the first reports find the past summed
    instead of summing it while an evaluator waits.
    """
    first, last = session.execute(
        select(func.min(PlannedPlay.planned_start), func.max(PlannedPlay.planned_start))
    ).one()
    if first is None or last is None:
        return
    wards = list(session.scalars(select(Ward)))
    for zone in sorted({w.timezone for w in wards}):
        in_zone = [w for w in wards if w.timezone == zone]
        day = first.astimezone(ZoneInfo(zone)).date()
        end = last.astimezone(ZoneInfo(zone)).date()
        while day <= end:
            until = min(end, day + timedelta(days=chunk_days - 1))
            yield ensure_rollups(session, in_zone, day, until, now, rules)
            day = until + timedelta(days=1)


def _state(session: Session, now: datetime) -> ReportRollupState:
    # FOR UPDATE: concurrent reports take turns at invalidating and re-summing
    # (PostgreSQL); SQLite has one writer at a time anyway.
    state = session.scalar(
        select(ReportRollupState).where(ReportRollupState.id == 1).with_for_update()
    )
    if state is None:
        state = ReportRollupState(id=1, evidence_watermark=0, planned_watermark=0, updated_at=now)
        session.add(state)
        session.flush()
    return state


def invalidate_changed(session: Session, now: datetime, rules: RollupRules) -> None:
    """Forget summed days that evidence or plans stored since they were summed touch."""
    state = _state(session, now)
    e, p = PlaybackEvidence, PlannedPlay
    if session.scalar(select(ReportRollupDay.ward_code).limit(1)) is None:
        # Nothing summed yet, so nothing to invalidate: start watching from here.
        state.evidence_watermark = session.scalar(select(func.coalesce(func.max(e.id), 0))) or 0
        state.planned_watermark = session.scalar(select(func.coalesce(func.max(p.id), 0))) or 0
        state.updated_at = now
        return
    sqlite = is_sqlite(session)
    grace = timedelta(seconds=rules.commit_grace_s)
    touched: dict[tuple[str, date], datetime] = {}

    def note(ward: str | None, day: date | None, seen: datetime | None) -> None:
        if ward is None or day is None or seen is None:
            return
        # A UTC date touches the local dates either side of it in any zone.
        for shift in (-1, 0, 1):
            key = (ward, day + timedelta(days=shift))
            touched[key] = max(touched.get(key, seen), seen)

    # Evidence: attribute it to the ward it was planned for and the ward it arrived in.
    ev_day = utc_date(sqlite, e.planned_start)
    rows = session.execute(
        select(p.ward_code, e.ward_code, ev_day, func.max(e.received_at))
        .select_from(
            e.__table__.outerjoin(p, and_(p.device_id == e.device_id, p.item_id == e.item_id))
        )
        .where(e.id > state.evidence_watermark)
        # The day first: grouped by ward first, SQLite would walk a whole ward index
        # to save a sort instead of reading only the new rows by id.
        .group_by(ev_day, p.ward_code, e.ward_code)
    )
    for planned_ward, arrived_ward, day, seen in rows:
        note(planned_ward, day, seen)
        note(arrived_ward, day, seen)
    state.evidence_watermark = _advance(
        session, e.id, e.received_at, state.evidence_watermark, now - grace
    )
    pl_day = utc_date(sqlite, p.planned_start)
    plans = session.execute(
        select(p.ward_code, pl_day, func.max(p.first_planned_at))
        .where(p.id > state.planned_watermark)
        .group_by(pl_day, p.ward_code)
    )
    for ward, day, seen in plans:
        note(ward, day, seen)
    state.planned_watermark = _advance(
        session, p.id, p.first_planned_at, state.planned_watermark, now - grace
    )
    state.updated_at = now
    _forget(session, touched, grace)


def _advance(
    session: Session,
    id_column: Any,
    time_column: Any,
    watermark: int,
    settled_before: datetime,
) -> int:
    """The new watermark: below the first row that may still have company committing.

    PostgreSQL hands out ids before commit, so a row with a smaller id can appear
    after a larger one was seen; rows younger than the grace are looked at again.
    """
    young = func.min(case((time_column > literal(settled_before, UtcDateTime()), id_column)))
    highest, first_young = session.execute(
        select(func.max(id_column), young).where(id_column > watermark)
    ).one()
    if highest is None:
        return watermark
    return int(first_young) - 1 if first_young is not None else int(highest)


def _forget(session: Session, touched: dict[tuple[str, date], datetime], grace: timedelta) -> None:
    """Drop the markers of days summed before a row that touches them surely committed."""
    if not touched:
        return
    wards = sorted({ward for ward, _ in touched})
    first = min(day for _, day in touched)
    last = max(day for _, day in touched)
    for codes in _chunks(wards):
        markers = session.scalars(
            select(ReportRollupDay).where(
                ReportRollupDay.ward_code.in_(codes),
                ReportRollupDay.local_date >= first,
                ReportRollupDay.local_date <= last,
            )
        )
        for marker in markers:
            seen = touched.get((marker.ward_code, marker.local_date))
            if seen is not None and marker.computed_at < seen + grace:
                session.delete(marker)
    session.flush()
