"""Migration 0019 on both stores: planned plays keep their rows and their one-per-device-
and-item rule, now keyed item first (a "now"'s entries side by side, not one page a
device; the figures are in the migration and docs/scale.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Table, column, insert, inspect, select
from sqlalchemy import table as sql_table
from sqlalchemy.exc import IntegrityError

from controller.db.models import Base, PlannedPlay
from controller.db.session import Database
from tests.support.migrations import upgrade_to

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


def _row(device_id: str, item_id: str) -> dict[str, object]:
    return {
        "device_id": device_id,
        "item_id": item_id,
        "ward_code": "00037",
        "group_code": None,
        "broadcast_id": "bc-1",
        "bulletin_id": None,
        "session_key": None,
        "kind": "media",
        "category": None,
        "source_level": "ward",
        "priority": "normal",
        "trigger": "manual",
        "planned_start": AT,
        "planned_duration_s": 30.0,
        "first_planned_at": AT,
    }


def test_planned_plays_are_keyed_item_first_and_keep_their_rows(database_url: str) -> None:
    db = Database(database_url)
    table = PlannedPlay.__table__
    assert isinstance(table, Table)
    try:
        upgrade_to(db, "0018")
        rows = [_row(d, i) for d in ("d1", "d2") for i in ("it-a", "it-b")]
        # The table as it stood at 0018: the model's later columns (0023's) are not there.
        then = sql_table("planned_plays", *(column(name) for name in rows[0]))
        with db.engine.begin() as conn:
            conn.execute(insert(then), rows)
        db.migrate()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diffs if "planned_plays" in repr(d)] == []
            keys = inspect(conn).get_unique_constraints("planned_plays")
            assert [k["column_names"] for k in keys] == [["item_id", "device_id"]]
            kept = conn.execute(select(table.c.device_id, table.c.item_id)).all()
            assert sorted(kept) == sorted((r["device_id"], r["item_id"]) for r in rows)
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(insert(table), [_row("d1", "it-a")])
        with db.engine.begin() as conn:  # another device, the same item: allowed
            conn.execute(insert(table), [_row("d3", "it-a")])
    finally:
        db.dispose()
