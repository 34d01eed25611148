"""The planned side of evidence: what each device was asked to play, kept per item.

Written whenever a device's plan changes (and for every 'now' command), so a report
can set played against planned, and an item nobody confirmed is *missed*, never
silently absent. An item that a later plan drops before it was due is marked
withdrawn, not missed: it was never owed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, false, insert, literal, select, update
from sqlalchemy.orm import Session

from controller.db.among import among
from controller.db.models import Bulletin, Device, PlannedPlay
from controller.domain.devices.service import Placement
from controller.domain.reports.rollups import dirty as rollups
from wardcast_protocol.messages import PlanItem


def _category(session: Session, item: PlanItem, cache: dict[str, str | None]) -> str | None:
    if item.relay is not None:
        return "relay"
    if item.bulletin_id is None:
        return "chime" if item.trigger.value == "programme" else None
    if item.bulletin_id not in cache:
        bulletin = session.get(Bulletin, item.bulletin_id)
        cache[item.bulletin_id] = bulletin.category if bulletin else None
    return cache[item.bulletin_id]


def _duration(item: PlanItem) -> float:
    return item.relay.window_s if item.relay is not None else item.media.duration_s


# What a plan's item sets on its device's row (its place, then ``_item_columns``).
PLAN_COLUMNS = (
    "ward_code",
    "group_code",
    "broadcast_id",
    "bulletin_id",
    "session_key",
    "kind",
    "category",
    "source_level",
    "priority",
    "trigger",
    "planned_start",
    "planned_duration_s",
)


def record_plans(
    session: Session, plans: Sequence[tuple[Device, Sequence[PlanItem]]], now: datetime
) -> None:
    """Bring each device's planned plays in line with its new plan.

    The devices' rows are read as plain rows in two statements, not as ORM objects two
    statements a device and one per item not yet planned (a ward's thousand plans took
    ~2 s so); the rows that change are written by one statement, the new ones by one.
    Rows are not loaded into the session: a caller holding one as an ORM object sees
    the change after the commit.
    """
    if not plans:
        return
    table = cast(Table, PlannedPlay.__table__)
    columns = [table.c.id, table.c.device_id, table.c.item_id, table.c.withdrawn_at]
    columns += [table.c[name] for name in PLAN_COLUMNS]
    ids = [device.id for device, _ in plans]
    # Only the future can still change; the past is what was owed.
    ahead: dict[str, dict[str, dict[str, Any]]] = {device_id: {} for device_id in ids}
    read = select(*columns).where(among(session, PlannedPlay.device_id, ids))
    # Read on the connection, past the ORM's row loading (a third of the time here);
    # flushed first, as the ORM's own query would have.
    session.flush()
    conn = session.connection()
    # A "now" is planned by its command (``record_commands``), never by a plan, so its
    # rows are not a plan's to withdraw, though they start at or after a refresh's
    # ``now``: a recompile at the same instant, or one begun before the "now" committed
    # (a "now" takes no plans' lock), had marked the emergency withdrawn. Asked as the
    # index by (device, time) is kept (``= false``), which holds no "now" (0023).
    ahead_rows = read.where(table.c.planned_start >= now, table.c.commanded == false())
    for found in conn.execute(ahead_rows).mappings():
        ahead[found["device_id"]][found["item_id"]] = dict(found)
    # An item planned before, now in the past (moved ahead again, say): its row is kept.
    unseen = {i.item_id for d, items in plans for i in items if i.item_id not in ahead[d.id]}
    earlier: dict[tuple[str, str], dict[str, Any]] = {}
    if unseen:
        # Looked up by its key (item, device) alone, the time checked here: given
        # ``planned_start < now`` too, SQLite chose to read each device's every past
        # play by (device, start), which grew with the months (bench.plans --history).
        past = read.where(among(session, PlannedPlay.item_id, unseen))
        for found in conn.execute(past).mappings():
            if found["planned_start"] < now:
                earlier[(found["device_id"], found["item_id"])] = dict(found)
    columns_of = _ItemColumns(session)
    fresh: list[dict[str, Any]] = []
    changed: dict[int, dict[str, Any]] = {}
    for device, items in plans:
        fresh += _record_one(
            session, device, items, now, (ahead[device.id], earlier), columns_of, changed
        )
    if changed:
        names = (*PLAN_COLUMNS, "withdrawn_at")
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in names}),
            [
                {"row_id": row_id, **{f"new_{name}": row[name] for name in names}}
                for row_id, row in changed.items()
            ],
        )
    if fresh:
        # New rows as one multi-row INSERT, not an ORM object each: a session queued
        # into a ward's programme plans thousands (9,000 cost ~0.5 s as objects).
        session.execute(insert(table), fresh)


def _record_one(
    session: Session,
    device: Device,
    items: Sequence[PlanItem],
    now: datetime,
    rows: tuple[dict[str, dict[str, Any]], dict[tuple[str, str], dict[str, Any]]],
    columns_of: _ItemColumns,
    changed: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Bring ``device``'s rows (``rows``: its rows ahead by item, and rows in the past
    by device and item) in line with ``items``: the rows that change are added to
    ``changed`` (by id, as they become); the rows to insert are returned."""
    existing, earlier = rows
    wanted = {item.item_id for item in items}
    made: dict[str, dict[str, Any]] = {}
    for item in items:
        values = {"ward_code": device.ward_code, "group_code": device.group_code}
        values.update(columns_of(item))
        row = existing.get(item.item_id) or earlier.get((device.id, item.item_id))
        if row is None:
            # An item twice in one plan is one row, the later one's.
            made[item.item_id] = {
                "device_id": device.id,
                "item_id": item.item_id,
                "first_planned_at": now,
                "withdrawn_at": None,
                **values,
            }
            rollups.mark(session, device.ward_code, item.planned_start)
            continue
        # A recompile finds most rows as they were: only a real change is written and
        # dirties report sums.
        if row["withdrawn_at"] is not None or any(row[k] != v for k, v in values.items()):
            before = (row["ward_code"], row["planned_start"])
            row.update(values, withdrawn_at=None)
            changed[row["id"]] = row
            _touch(session, before, (row["ward_code"], row["planned_start"]))
    for item_id, row in existing.items():
        if item_id not in wanted and row["withdrawn_at"] is None:
            row["withdrawn_at"] = now
            changed[row["id"]] = row
            _touch(session, None, (row["ward_code"], row["planned_start"]))
    return list(made.values())


class _ItemColumns:
    """The planned-play columns (``PLAN_COLUMNS``) a plan's item sets, but its device's
    place: worked out once per item object, which a refresh shares among devices."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._categories: dict[str, str | None] = {}
        self._known: dict[int, tuple[PlanItem, dict[str, Any]]] = {}

    def __call__(self, item: PlanItem) -> dict[str, Any]:
        held = self._known.get(id(item))
        if held is None or held[0] is not item:
            category = _category(self._session, item, self._categories)
            held = (item, _item_columns(item, category))
            self._known[id(item)] = held
        return held[1]


def _item_columns(item: PlanItem, category: str | None) -> dict[str, Any]:
    return {
        "broadcast_id": item.broadcast_id,
        "bulletin_id": item.bulletin_id,
        "session_key": item.session_key,
        "kind": "relay" if item.relay is not None else "media",
        "category": category,
        "source_level": item.source_level.value,
        "priority": item.priority.value,
        "trigger": item.trigger.value,
        "planned_start": item.planned_start,
        "planned_duration_s": _duration(item),
    }


def _touch(
    session: Session,
    before: tuple[str | None, datetime] | None,
    after: tuple[str | None, datetime],
) -> None:
    """Mark the report days a planned play counts in (and counted in, if it moved) dirty."""
    if before is not None and before != after:
        rollups.mark(session, *before)
    rollups.mark(session, *after)


def _command_row(
    device: Placement, item: PlanItem, category: str | None, now: datetime
) -> dict[str, Any]:
    """The planned-play columns of a 'now' item on ``device`` (one place for both paths)."""
    return {
        "device_id": device.id,
        "ward_code": device.ward_code,
        "group_code": device.group_code,
        **_command_columns(item, category, now),
    }


def _command_columns(item: PlanItem, category: str | None, now: datetime) -> dict[str, Any]:
    """The planned-play columns of a 'now' item that are the same on every device."""
    return {
        "item_id": item.item_id,
        **_item_columns(item, category),
        "first_planned_at": now,
        "commanded": True,
    }


def record_command(session: Session, device: Device, item: PlanItem, now: datetime) -> None:
    """A 'now' item is planned the moment it is sent."""
    category = _category(session, item, {})
    session.add(PlannedPlay(**_command_row(device, item, category, now)))
    rollups.mark(session, device.ward_code, item.planned_start)


def record_commands(
    session: Session, devices: Sequence[Placement], item: PlanItem, now: datetime
) -> None:
    """``record_command`` for many devices at once: the same rows and marks.

    What is the item's (its category, its duration) is worked out once, and the rows
    go in as one ``INSERT ... SELECT`` from the devices: the item's columns bound once,
    each device's place read by the database, where a row of parameters per device
    cost ~8 ms of a "now" to a thousand (two of them times, converted row by row).
    Each ward's report day is marked once.
    """
    if not devices:
        return
    category = _category(session, item, {})
    table = cast(Table, PlannedPlay.__table__)
    shared = _command_columns(item, category, now)
    places = select(
        Device.id,
        Device.ward_code,
        Device.group_code,
        *(literal(value, table.c[name].type) for name, value in shared.items()),
    ).where(among(session, Device.id, [d.id for d in devices]))
    session.execute(
        insert(table).from_select(["device_id", "ward_code", "group_code", *shared], places)
    )
    for ward_code in sorted({d.ward_code for d in devices if d.ward_code is not None}):
        rollups.mark(session, ward_code, item.planned_start)


def planned_play(session: Session, device_id: str, item_id: str) -> PlannedPlay | None:
    """What the controller planned (or commanded) as ``item_id`` on ``device_id``, if ever."""
    return session.scalar(
        select(PlannedPlay).where(
            PlannedPlay.device_id == device_id, PlannedPlay.item_id == item_id
        )
    )
